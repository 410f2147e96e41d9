package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// fileLocker serialises migration runs against one SQLite file across
// processes with an advisory flock on a file beside it.
type fileLocker struct {
	path    string
	timeout time.Duration

	mu sync.Mutex // held from Lock to Unlock
	f  *os.File
}

func (l *fileLocker) Lock(ctx context.Context, _ *sql.DB) (err error) {
	l.mu.Lock()
	defer func() {
		if err != nil {
			l.mu.Unlock()
		}
	}()
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open migration lock: %w", err)
	}
	deadline := time.Now().Add(l.timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			l.f = f
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return fmt.Errorf("migration lock: %w", err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return fmt.Errorf("migration lock %s held by another process for over %s", l.path, l.timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (l *fileLocker) Unlock(context.Context, *sql.DB) error {
	if l.f == nil {
		return nil
	}
	defer l.mu.Unlock()
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
	return err
}
