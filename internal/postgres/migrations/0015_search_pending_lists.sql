-- Ranked search (ADR 0021, amended 2026-12-02): every scan of a GIN index also reads the whole
-- of its pending list, the entries written since the last VACUUM that are not yet merged into
-- the index. Its default limit, 4 MB, is 512 pages read by every search that fetches through
-- the index: at 30,000 products a ranked search for a word in no name read 755 pages, 628 of
-- them the pending lists of the name and name-or-brand indexes, to find nothing. 256 kB keeps
-- writes batched (a flush merges up to 256 kB of entries at once) and bounds that cost at 32
-- pages per index. Setting a storage parameter takes a SHARE UPDATE EXCLUSIVE lock and
-- rewrites nothing: writes and reads go on.
ALTER INDEX products_search SET (gin_pending_list_limit = 256);
ALTER INDEX products_name_search SET (gin_pending_list_limit = 256);
ALTER INDEX products_label_search SET (gin_pending_list_limit = 256);
ALTER INDEX variants_search SET (gin_pending_list_limit = 256);
