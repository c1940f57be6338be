package amego

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/posagent/posagent"
)

// Track endpoints count periods from 0 in the Western year (providers.md §1.2):
// Year 2026, Period 0 = Jan–Feb … 5 = Nov–Dec.
func westernPeriod(p posagent.Period) (year, period int) {
	return p.Year + 1911, p.EvenMonth/2 - 1
}

// Track is one line of track_status: a range of an API track and how far it
// is used.
type Track struct {
	Code  string  `json:"code"`
	Start string  `json:"start"`
	End   string  `json:"end"`
	Now   string  `json:"now"` // last number used, "" or zeros when none
	Total flexInt `json:"total_booklet"`
	Used  flexInt `json:"used_booklet"`
	// Status: 1 in use, 2 disabled, 3 expired, 9 used up.
	Status flexInt `json:"status"`
}

// Booklet is the track's range as a posagent booklet.
func (t Track) Booklet(p posagent.Period) (posagent.Booklet, error) {
	start, err1 := strconv.Atoi(strings.TrimSpace(t.Start))
	end, err2 := strconv.Atoi(strings.TrimSpace(t.End))
	b := posagent.Booklet{Track: strings.TrimSpace(t.Code), First: start, Last: end, Period: p, Source: "amego"}
	if err1 != nil || err2 != nil {
		return b, posagent.Errorf(posagent.KindInternal, "amego track %s %s–%s is not a number range", t.Code, t.Start, t.End)
	}
	if err := b.Validate(); err != nil {
		return b, posagent.Errorf(posagent.KindInternal, "amego track %s: %v", b, err)
	}
	return b, nil
}

// Left is how many numbers Amego thinks are unused in the track.
func (t Track) Left() int {
	start, err1 := strconv.Atoi(strings.TrimSpace(t.Start))
	end, err2 := strconv.Atoi(strings.TrimSpace(t.End))
	if err1 != nil || err2 != nil || end < start {
		return 0
	}
	now, err := strconv.Atoi(strings.TrimSpace(t.Now))
	if err != nil || now < start {
		return end - start + 1
	}
	return max(0, end-now)
}

// Tracks is track_status: Amego's API tracks of a period with what is used.
func (c *Client) Tracks(ctx context.Context, p posagent.Period) ([]Track, error) {
	y, per := westernPeriod(p)
	data, err := c.call(ctx, "track_status", struct {
		Year   int `json:"Year"`
		Period int `json:"Period"`
	}{y, per})
	if err != nil {
		return nil, err
	}
	var ts []Track
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	if json.Unmarshal(data, &ts) != nil {
		return nil, posagent.Errorf(posagent.KindTransient, "amego track_status: the answer is not a list of tracks")
	}
	return ts, nil
}

// pendingLease remembers a track_get whose answer never came: Amego may have
// handed out the books (irreversibly), so the next lease of the period first
// looks for them in track_status instead of asking for more.
type pendingLease struct {
	before map[string]bool // track_status ranges before the call
	books  int
}

func rangeKey(t Track) string {
	return strings.TrimSpace(t.Code) + strings.TrimSpace(t.Start) + "-" + strings.TrimSpace(t.End)
}

// LeaseBooklets implements posagent.BookletSource with track_get: req.Booklets
// books of 50 numbers (default 1) for the period. A lease is irreversible, so
// it is never repeated blindly: when an earlier track_get of the period got no
// answer, the ranges track_status shows now but did not show before it are
// those books, and are returned instead of leasing again. When that cannot be
// told apart (several new ranges: another till leased meanwhile), the lease
// stops with KindConflict for a person to look at the Amego back office.
//
// The memory of an unanswered lease lives in this process [U]: a restart in
// between may lease once more; the books from the lost answer then stay
// unused at Amego, visible in track_status.
func (c *Client) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	if req.Period.IsZero() {
		return nil, posagent.Invalid("period", "a lease needs its period")
	}
	books := req.Booklets
	if books <= 0 {
		books = 1
	}
	key := req.Period.Code()
	c.mu.Lock()
	pend, ambiguous := c.pending[key]
	c.mu.Unlock()

	before, err := c.Tracks(ctx, req.Period)
	if err != nil {
		return nil, err
	}
	if ambiguous {
		var fresh []Track
		for _, t := range before {
			if !pend.before[rangeKey(t)] {
				fresh = append(fresh, t)
			}
		}
		switch len(fresh) {
		case 0:
			// The lost call never reached Amego: lease afresh.
			c.log.LogAttrs(ctx, slog.LevelInfo, "amego lease: the unanswered track_get did not lease; asking again", slog.String("period", key))
		case 1:
			b, err := fresh[0].Booklet(req.Period)
			if err != nil {
				return nil, err
			}
			if b.Count() != pend.books*posagent.BookletSize {
				c.log.LogAttrs(ctx, slog.LevelWarn, "amego lease: the recovered range differs from the books asked for",
					slog.String("range", b.String()), slog.Int("books", pend.books))
			}
			c.mu.Lock()
			delete(c.pending, key)
			c.mu.Unlock()
			c.log.LogAttrs(ctx, slog.LevelInfo, "amego lease: recovered the books of an unanswered track_get", slog.String("range", b.String()))
			return []posagent.Booklet{b}, nil
		default:
			return nil, posagent.Errorf(posagent.KindConflict,
				"amego lease: an answer to track_get was lost and track_status now shows %d new ranges for %s; "+
					"find which one this till holds in the Amego back office and add it by hand (posagent booklets add)", len(fresh), req.Period.Label())
		}
	}
	seen := make(map[string]bool, len(before))
	for _, t := range before {
		seen[rangeKey(t)] = true
	}
	y, per := westernPeriod(req.Period)
	data, err := c.call(ctx, "track_get", struct {
		Year         int    `json:"Year"`
		Period       int    `json:"Period"`
		Book         int    `json:"Book"`
		TrackAPICode string `json:"TrackApiCode,omitempty"`
	}{y, per, books, c.cfg.TrackAPICode})
	if err != nil {
		if posagent.IsKind(err, posagent.KindTransient) && apiError(err) == nil {
			// No answer, or not one we can read: the books may be ours already.
			c.mu.Lock()
			c.pending[key] = pendingLease{before: seen, books: books}
			c.mu.Unlock()
		}
		return nil, err
	}
	c.mu.Lock()
	delete(c.pending, key)
	c.mu.Unlock()
	var t Track
	if json.Unmarshal(data, &t) != nil {
		c.mu.Lock()
		c.pending[key] = pendingLease{before: seen, books: books}
		c.mu.Unlock()
		return nil, posagent.Errorf(posagent.KindTransient, "amego track_get: success without a readable range")
	}
	b, err := t.Booklet(req.Period)
	if err != nil {
		return nil, err
	}
	if b.Count() != books*posagent.BookletSize {
		c.log.LogAttrs(ctx, slog.LevelWarn, "amego lease: the range differs from the books asked for",
			slog.String("range", b.String()), slog.Int("books", books))
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "amego lease", slog.String("period", key), slog.String("range", b.String()))
	return []posagent.Booklet{b}, nil
}

// String names a track line for logs.
func (t Track) String() string {
	return fmt.Sprintf("%s%s–%s", t.Code, t.Start, t.End)
}
