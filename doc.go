// Package posagent holds the domain of the POS e-invoice agent: the invoice as the
// Taiwanese Ministry of Finance (MOF) defines it, its validation, money without
// floats, bimonthly periods, invoice numbers and booklets, the error type whose
// kind decides what happens next, and the small interfaces the agent needs from
// e-invoice providers.
//
// It does no I/O. SQL lives in queue, printer bytes in printer, wire formats in
// providers/*.
package posagent
