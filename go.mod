module github.com/posagent/posagent

go 1.26.8

require (
	github.com/shopspring/decimal v1.6.0
	golang.org/x/text v0.43.0
)

require (
	github.com/makiuchi-d/gozxing v0.1.1 // indirect
	golang.org/x/xerrors v0.0.0-20200804184101-5ec99f83aff1 // indirect
	rsc.io/qr v0.2.0 // indirect
)
