package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/cat-server/cat-server/server/app"
)

// ShutdownContext returns a context for Main that is cancelled by the
// first signal received on sigs, and that carries (app.WithForce) a
// second context cancelled by the next one: a second SIGTERM or SIGINT
// cuts the shutdown grace period short. cancel releases the goroutine
// reading sigs.
func ShutdownContext(parent context.Context, sigs <-chan os.Signal) (ctx context.Context, cancel context.CancelFunc) {
	stopCtx, stop := context.WithCancelCause(parent)
	force, forceNow := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		for n := 0; n < 2; n++ {
			select {
			case sig := <-sigs:
				if n == 0 {
					stop(fmt.Errorf("received %v", sig))
				} else {
					forceNow()
				}
			case <-done:
				return
			}
		}
	}()
	return app.WithForce(stopCtx, force), func() {
		close(done)
		stop(context.Canceled)
		forceNow()
	}
}
