module github.com/posagent/posagent

go 1.26.8

require github.com/shopspring/decimal v1.6.0

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/go-sql-driver/mysql v1.10.1 // indirect
)
