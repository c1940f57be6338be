module github.com/posagent/posagent

go 1.26.8

require github.com/shopspring/decimal v1.6.0

require github.com/mattn/go-sqlite3 v1.14.52
