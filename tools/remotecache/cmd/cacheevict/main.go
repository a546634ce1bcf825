// Command cacheevict keeps a Bazel HTTP cache served by nginx (tools/remotecache/setup.sh)
// under a size cap, least recently used first; run on a timer (setup.sh installs one):
//
//	cacheevict -store DIR/store -log DIR/log/cache.log -state DIR/evict.state -cap 50G
//	cacheevict ... -every 2s     # loop instead of one pass
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cat-server/cat-server/tools/remotecache/evict"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("cacheevict: ")
	store := flag.String("store", "", "the directory nginx serves, holding ac/ and cas/ (required)")
	logFile := flag.String("log", "", "nginx's access log for the cache (its recency source besides file times)")
	state := flag.String("state", "", "file keeping the read offset in -log between passes (default: -log + \".offset\")")
	capFlag := flag.String("cap", "", "size cap: bytes, or with a K, M, G or T suffix (powers of 1024) (required)")
	low := flag.Int("low", 90, "after going over the cap, evict down to this percentage of it")
	protect := flag.Duration("protect", 10*time.Minute, "never evict entries used within this long (a build reading them)")
	every := flag.Duration("every", 0, "repeat every this long until killed (0: one pass)")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected argument %q", flag.Arg(0))
	}
	if *store == "" {
		log.Fatal("-store is required")
	}
	if fi, err := os.Stat(*store); err != nil || !fi.IsDir() {
		log.Fatalf("-store %s: not a directory", *store)
	}
	capBytes, err := parseSize(*capFlag)
	if err != nil {
		log.Fatalf("-cap: %v", err)
	}
	if *low < 1 || *low > 100 {
		log.Fatalf("-low %d: want 1 to 100", *low)
	}
	if *protect < 0 {
		log.Fatalf("-protect %v: want >= 0", *protect)
	}
	if *state == "" && *logFile != "" {
		*state = *logFile + ".offset"
	}
	c := evict.Config{Store: *store, Log: *logFile, State: *state, Cap: capBytes,
		Target: max(1, capBytes*int64(*low)/100), Protect: *protect}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	for {
		c.Now = time.Now()
		r, err := evict.Run(c)
		if err != nil {
			log.Fatal(err)
		}
		if r.Removed > 0 || r.After > c.Cap || *every == 0 {
			msg := fmt.Sprintf("%d entries, %d bytes; removed %d, %d bytes left (cap %d)", r.Entries, r.Before, r.Removed, r.After, c.Cap)
			if r.After > c.Cap {
				msg += fmt.Sprintf("; still over the cap: the rest was used within -protect %v", c.Protect)
			}
			if r.BadLogLines > 0 {
				msg += fmt.Sprintf("; %d access-log lines not in the cache's format", r.BadLogLines)
			}
			log.Print(msg)
		}
		if *every == 0 {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(*every):
		}
	}
}

// parseSize reads "123", "10K", "512M", "50G", "1T" (powers of 1024).
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("missing (e.g. -cap 50G)")
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "T":
		mult = 1 << 40
	}
	num := s
	if mult > 1 {
		num = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with K, M, G or T)", s)
	}
	return n * mult, nil
}
