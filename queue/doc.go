// Package queue is the terminal's store: one SQLite database that holds the
// booklets leased to this terminal and their number cursors, every invoice
// issued from them, the outbox of documents still to send to the provider
// (uploads, voids, allowances, allowance voids, blank-number reports), the
// print jobs with the original/補印 state, and an append-only event log.
//
// It keeps four of the agent's promises (see docs/architecture.md):
//
//  1. Durable before acknowledged: a method that returns nil has committed
//     with synchronous=FULL in WAL mode; the invoice, its upload job and its
//     print state are written in one transaction.
//  2. One number, one invoice: numbers come from a cursor that moves in the
//     same transaction as the invoice that takes it; (number, period) is unique.
//  3. Uploaded exactly once, in order: a job of an invoice is handed out only
//     when every earlier job of the same invoice is done; claims carry a token.
//  4. Every number accounted for: RetirePeriod reports the unused ranges and
//     queues them for the E0402 blank report; nothing that accounts for a
//     number is deleted (triggers refuse it).
//
// Writes go through one connection (SQLite allows one writer; a single Go
// connection turns contention into a queue instead of SQLITE_BUSY) with
// BEGIN IMMEDIATE; reads go through a small read-only pool so that status
// queries never wait behind a sale.
//
// Every method that fails because of the caller's input returns a
// *posagent.Error whose Kind says what to do: KindInvalid (nothing written),
// KindNotFound, KindConflict, KindExhausted. A full disk is KindStorageFull
// and matches ErrDiskFull; other storage failures are KindInternal and match
// ErrReadOnly with errors.Is when that is the cause.
package queue
