/* migrate.h — `pharos migrate-db --from FILE --to URI`: copies a SQLite
 * database of pharos into an empty PostgreSQL one. */
#ifndef PHAROS_MIGRATE_H
#define PHAROS_MIGRATE_H

extern const char migrate_usage[];

/* The whole command: argv[0] is "migrate-db". Progress and errors go to
 * stderr. Returns the exit code: 0 copied, 1 failed (nothing left in the
 * target), 2 usage error or a non-empty target. */
int migrate_db_main(int argc, char **argv);

#endif
