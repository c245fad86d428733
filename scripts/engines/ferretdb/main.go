// Command ferretdb-natter runs the embeddable FerretDB v1 (SQLite backend)
// for Natter's local tests. See scripts/engines.sh.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("sqlite-dir", "", "directory for SQLite database files (required)")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		slog.Error("bad -log-level", "error", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	if *dir == "" {
		logger.Error("-sqlite-dir is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		logger.Error("cannot create sqlite dir", "error", err)
		os.Exit(1)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	go func() {
		<-ctx.Done()
		logger.Info("signal received, shutting down")
	}()

	logger.Info("FerretDB starting", "listen", *listen, "sqlite", *dir, "uri", "mongodb://"+*listen+"/")
	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with error", "error", err)
		os.Exit(1)
	}
	logger.Info("FerretDB stopped")
}
