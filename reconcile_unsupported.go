package posagent

import "errors"

// ErrNotReconcilable is in the chain of a Holdings or DaySummary error that
// says the provider cannot be asked at all — a bridge receiver that does not
// implement the optional status call — rather than that this one question
// failed. A run reports it as "this provider cannot be reconciled", not as a
// difference and not as a transient failure to retry.
var ErrNotReconcilable = errors.New("the provider cannot say what it holds")
