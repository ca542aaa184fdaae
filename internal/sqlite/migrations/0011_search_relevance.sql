-- Relevance-ranked search (ADR 0021): a query that is a variant's barcode ranks that product
-- first, and is found even when no word of it matches, so barcodes need an index as SKUs have.
CREATE INDEX variants_barcode ON variants (barcode);
