-- Relevance-ranked search (ADR 0021): a query that is a variant's barcode ranks that product
-- first, and is found even when no word of it matches, so barcodes need an index as SKUs have.
-- A plain index, not a partial one on barcode <> '': a prepared statement's generic plan could
-- not prove its parameter non-empty and would not use a partial index.
CREATE INDEX variants_barcode ON variants (barcode);
