-- `active` and `leases` gain and lose an entry for every job that runs, `dedup` for every job
-- with a deduplication key. Small (up to 128 entries by default), a sorted set or a hash is
-- one listpack in Redis, and each such change scans and shifts all of it: with a few dozen
-- jobs running, that was a tenth of Redis's time per job. One entry longer than a listpack
-- allows (64 bytes by default) makes Redis keep them as a skiplist and hash tables from the
-- first job on. The entry has spaces, which no job id nor deduplication key has, and its
-- score in `active` is +inf, past every deadline: no reader takes it for a job, and `status`
-- counts the active jobs below +inf.
local LISTPACK_ANCHOR = 'not a job: an entry too long for a listpack, so that this key is a hash table'
