-- (being written)
SELECT 1;
