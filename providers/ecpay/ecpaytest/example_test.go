package ecpaytest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// A demo or a test starts the stand-in, points a client at it, and switches
// faults on and off while it runs.
func Example() {
	ctx := context.Background()
	srv := ecpaytest.New(ecpaytest.Options{}) // stage merchant, demo track ZZ
	defer srv.Close()
	c, err := ecpay.New(srv.Config("POS01"))
	if err != nil {
		panic(err)
	}
	bs, err := c.LeaseBooklets(ctx, posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), MachineID: "POS01", Booklets: 1})
	fmt.Println(bs[0].Track, bs[0].Count(), err)

	srv.Down()
	_, err = c.Machines(ctx)
	fmt.Println(posagent.ErrorKind(err))
	srv.Up()

	srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultRateLimit}, 1)
	_, err = c.Machines(ctx)
	fmt.Println(posagent.ErrorKind(err))
	_, err = c.Machines(ctx)
	fmt.Println(err)
	// Output:
	// ZZ 50 <nil>
	// transient
	// rate_limited
	// <nil>
}
