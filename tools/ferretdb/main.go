// Command ferretdb starts an embedded FerretDB (SQLite backend) on a loopback
// port for local development and tests. It prints the MongoDB URI on stdout
// as its first line, then serves until SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	dir := flag.String("dir", "", "existing directory for the SQLite files (required)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("ferretdb: -dir is required")
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		log.Fatalf("ferretdb: -dir %q is not an existing directory", *dir)
	}

	// SQLite has one write lock; FerretDB waits up to 10 s for it by default. A bulk
	// write under a busy worker was once starved that long (SQLITE_BUSY); 60 s makes
	// that rare. FerretDB still adds its other defaults (WAL journal).
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/?_pragma=busy_timeout(60000)",
	})
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()

	// MongoDBURI blocks until the listener is bound, so the port is known.
	fmt.Println(f.MongoDBURI())
	<-done
}
