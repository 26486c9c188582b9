SELECT c.ts, c.user_id, c.page, r.category
FROM clicks c JOIN page_rules r ON c.page = r.page
WHERE c.latency_ms > r.max_latency

SELECT * FROM clicks c, page_rules r WHERE c.page = r.page AND c.latency_ms > 100 AND r.category = 'landing'

SELECT c.page, r.category FROM clicks c LEFT JOIN page_rules r ON c.page = r.page AND r.max_latency < 500

SELECT r.category, c.page FROM page_rules r RIGHT JOIN clicks c ON c.page = r.page

SELECT page, count(*) AS n, avg(latency_ms), sum(latency_ms), count(DISTINCT user_id)
FROM clicks GROUP BY page HAVING count(*) > 1 ORDER BY n DESC, page LIMIT 10 OFFSET 2

SELECT page FROM clicks ORDER BY latency_ms DESC NULLS LAST, user_id NULLS FIRST

SELECT page, latency_ms / 2, latency_ms::float8 / 2, 7 / 2, '40' ::int8 + '1'
FROM clicks WHERE user_id = $1 AND page LIKE $2

SELECT page FROM clicks UNION ALL SELECT category FROM page_rules ORDER BY page

SELECT x FROM (SELECT user_id + 1 AS x FROM clicks) sub WHERE x > 1 OFFSET 5

SELECT ts + INTERVAL '1 minute', now(), version(), 'a' || latency_ms, concat('a', NULL, true) FROM clicks

SELECT CASE WHEN latency_ms > 100 THEN 'slow' WHEN latency_ms IS NULL THEN NULL ELSE 'ok' END,
       coalesce(page, 'none'), nullif(latency_ms, 0), latency_ms BETWEEN 1 AND 10, latency_ms IN (1, 2, NULL)
FROM clicks

INSERT INTO page_rules VALUES ('/home', 'landing', 800), ('/cart', 'checkout', '300')

INSERT INTO page_rules (page) SELECT DISTINCT page FROM clicks

UPDATE page_rules SET max_latency = max_latency + $1 WHERE page = $2

DELETE FROM page_rules WHERE category IS NULL

CREATE TABLE t (id BIGINT PRIMARY KEY, r REAL, d DOUBLE PRECISION, s VARCHAR(5), b BOOLEAN, ts TIMESTAMP, dt DATE, i SMALLINT, tx TEXT)

SELECT count(*) FROM page_rules WHERE category = 'a literal much longer than thirty-two characters'

CREATE STREAM s1 WITH (trigger = '100ms', max_rows_per_batch = 500) AS
SELECT ts, upper(page) AS p, latency_ms * 2 AS l2 FROM events WHERE latency_ms > 100

CREATE STREAM s2 WITH (sink = 'table') AS
SELECT e.ts, e.page, r.category FROM events e JOIN page_rules r ON e.page = r.page WHERE e.latency_ms > r.max_latency

CREATE STREAM s3 WITH (output_mode = 'append', trigger = 'available_now') AS
SELECT TUMBLE_START(ts, INTERVAL '1 minute') AS minute, TUMBLE_END(ts, INTERVAL 1 MINUTE) AS minute_end, page,
       count(*) AS n, avg(latency_ms) AS avg_latency, max(ts)
FROM events WHERE page <> '/health' GROUP BY TUMBLE(ts, INTERVAL '1 minute'), page HAVING count(*) > 1

CREATE STREAM s4 AS
SELECT HOP_END(ts, INTERVAL '10 seconds', INTERVAL '1 minute') AS w, count(*) FROM events
GROUP BY HOP(ts, INTERVAL '10 seconds', INTERVAL '1 minute')

CREATE STREAM s5 AS SELECT page, count(*) FROM events GROUP BY page

CREATE SOURCE src (ts TIMESTAMP, v DOUBLE PRECISION) WITH (connector = 'datagen', event_time = 'ts', watermark_delay = '2 seconds', rows_per_second = '10')

INSERT INTO events (ts, page) VALUES ('2026-01-01 00:00:00', '/home')

SELECT * FROM sluice_progress WHERE stream = 'x'

SHOW STREAMS

SUBSCRIBE slow

EXPLAIN CREATE STREAM s6 WITH (sink = 'log') AS SELECT page FROM events

SELECT r.page, r.max_latency AS before, n.max_latency AS after
FROM page_rules AS OF VERSION 3 r JOIN page_rules n ON r.page = n.page
WHERE r.max_latency <> n.max_latency

SELECT count(*) FROM page_rules p AS OF VERSION $1

EXPLAIN SELECT page FROM page_rules AS OF VERSION 2 AS r WHERE r.category = 'x'

INSERT INTO page_rules SELECT * FROM page_rules AS OF VERSION 1 WHERE page = '/home'
