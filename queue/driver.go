package queue

// sqliteDriver is the database/sql driver name the store opens (mattn's
// go-sqlite3). A test wraps the driver under another name to see every
// statement the store runs and check its query plan.
var sqliteDriver = "sqlite3"
