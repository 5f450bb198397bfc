-- An mldsl store of schema 1 as the first release wrote it (start_run, finish_run, open_study,
-- start_trial, finish_trial, mark_abandoned), dumped with sqlite3's iterdump.
BEGIN TRANSACTION;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema_version','1');
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT,
    status TEXT NOT NULL,
    experiment_mlx TEXT NOT NULL,
    patches TEXT NOT NULL DEFAULT '[]',
    seed INTEGER,
    backend TEXT,
    versions TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    history TEXT NOT NULL DEFAULT '[]',
    artifacts TEXT,
    error TEXT,
    started REAL NOT NULL,
    finished REAL,
    duration REAL
);
INSERT INTO "runs" VALUES('c8c97edfc4f6','digits',NULL,'completed','experiment digits = Experiment()','[]',1,'native','{"mldsl": "0.1.0"}','{"accuracy": 0.9}','[{"epoch": 1, "loss": 0.5}]',NULL,NULL,1.79639115132918953895e+09,1.79639115133710479737e+09,7.9152584075927734375e-03);
INSERT INTO "runs" VALUES('86cc0ca8c819','digits',NULL,'running','experiment digits = Experiment()','[]',2,'native','{}','{}','[]',NULL,NULL,1.79639115134131932254e+09,NULL,NULL);
CREATE TABLE studies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    space TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL,
    seed INTEGER,
    created REAL NOT NULL
);
INSERT INTO "studies" VALUES(1,'tune','space','{"algorithm": {"name": "random", "seed": 0}, "early_stopping": null, "window": 8}','acc','maximize',0,1.79639115134928250313e+09);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    dna TEXT NOT NULL,
    experiment_mlx TEXT,
    status TEXT NOT NULL,
    reward REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    history TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    started REAL NOT NULL,
    finished REAL,
    UNIQUE (study_id, number)
);
INSERT INTO "trials" VALUES(1,1,0,'[0, 0.5, 1]','t0','completed',0.5,'{"acc": 0.5}','[]',NULL,1,1.79639115135313820839e+09,1.79639115135496544835e+09);
INSERT INTO "trials" VALUES(2,1,1,'[1, 0.5, 1]','t1','failed',NULL,'{}','[]','abandoned: the search process stopped while this trial was running',1,1.79639115135715389257e+09,1.79639115136123561859e+09);
INSERT INTO "trials" VALUES(3,1,2,'[2, 0.5, 1]','t2','running',NULL,'{}','[]',NULL,1,1.79639115136510133744e+09,NULL);
CREATE INDEX trials_by_study ON trials (study_id, number);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('studies',1);
INSERT INTO "sqlite_sequence" VALUES('trials',3);
COMMIT;
