-- Write the write-ahead log into the database file and give free blocks at its end back to
-- the file system (`nutgraf vacuum`).
CHECKPOINT
