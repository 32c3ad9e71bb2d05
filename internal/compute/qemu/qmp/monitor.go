// Package qmp is a small client for the QEMU Machine Protocol: one
// connection to a guest's QMP socket, commands matched to their replies by
// id, and asynchronous events handed to whoever subscribed to them.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Event names kumo waits for.
const (
	EventShutdown      = "SHUTDOWN"
	EventPowerdown     = "POWERDOWN"
	EventStop          = "STOP"
	EventResume        = "RESUME"
	EventReset         = "RESET"
	EventDeviceDeleted = "DEVICE_DELETED"
	EventGuestPanicked = "GUEST_PANICKED"
)

// ErrClosed is returned once the connection is gone (QEMU exited or Close
// was called).
var ErrClosed = errors.New("qmp: connection closed")

// Error is an error QEMU answered a command with.
type Error struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

func (e *Error) Error() string { return "qmp: " + e.Class + ": " + e.Desc }

// Event is one asynchronous QMP event.
type Event struct {
	Name string          `json:"event"`
	Data json.RawMessage `json:"data,omitempty"`
	Time time.Time       `json:"-"`
}

// message is any line QEMU sends: a greeting, a reply or an event.
type message struct {
	QMP       json.RawMessage `json:"QMP"`
	ID        string          `json:"id"`
	Return    json.RawMessage `json:"return"`
	Error     *Error          `json:"error"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp"`
}

type reply struct {
	ret json.RawMessage
	err error
}

// Monitor is one QMP connection. It is safe for concurrent use.
type Monitor struct {
	conn net.Conn
	wmu  sync.Mutex // one command written at a time

	mu      sync.Mutex
	nextID  uint64
	pending map[string]chan reply
	subs    map[*Subscription]struct{}
	err     error // why the connection ended
	done    chan struct{}
}

// Dial connects to the QMP socket at path, reads the greeting and leaves
// capabilities negotiation done, so commands can be sent at once.
func Dial(ctx context.Context, path string) (*Monitor, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp: connect %s: %w", path, err)
	}
	m, err := newMonitor(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return m, nil
}

func newMonitor(ctx context.Context, conn net.Conn) (*Monitor, error) {
	r := bufio.NewReaderSize(conn, 64<<10)
	// The greeting comes first; bound the wait by ctx.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(dl)
	} else {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("qmp: read greeting: %w", err)
	}
	var g message
	if err := json.Unmarshal(line, &g); err != nil || g.QMP == nil {
		return nil, fmt.Errorf("qmp: unexpected greeting %q", line)
	}
	conn.SetReadDeadline(time.Time{})
	m := &Monitor{
		conn:    conn,
		pending: map[string]chan reply{},
		subs:    map[*Subscription]struct{}{},
		done:    make(chan struct{}),
	}
	go m.readLoop(r)
	if err := m.Execute(ctx, "qmp_capabilities", nil, nil); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// readLoop delivers replies and events until the connection ends.
func (m *Monitor) readLoop(r *bufio.Reader) {
	var err error
	for {
		var line []byte
		line, err = r.ReadBytes('\n')
		if err != nil {
			break
		}
		var msg message
		if jerr := json.Unmarshal(line, &msg); jerr != nil {
			continue // not a QMP object; QEMU never sends one, so ignore it
		}
		switch {
		case msg.Event != "":
			ev := Event{Name: msg.Event, Data: msg.Data,
				Time: time.Unix(msg.Timestamp.Seconds, msg.Timestamp.Microseconds*1000)}
			m.mu.Lock()
			for s := range m.subs {
				s.deliver(ev)
			}
			m.mu.Unlock()
		case msg.ID != "":
			m.mu.Lock()
			ch := m.pending[msg.ID]
			delete(m.pending, msg.ID)
			m.mu.Unlock()
			if ch != nil {
				rep := reply{ret: msg.Return}
				if msg.Error != nil {
					rep.err = msg.Error
				}
				ch <- rep
			}
		}
	}
	m.mu.Lock()
	m.err = fmt.Errorf("%w: %v", ErrClosed, err)
	for id, ch := range m.pending {
		ch <- reply{err: m.err}
		delete(m.pending, id)
	}
	for s := range m.subs {
		s.close()
	}
	m.subs = map[*Subscription]struct{}{}
	m.mu.Unlock()
	close(m.done)
}

// Execute runs one command. args may be nil; out, when not nil, receives
// the "return" value. The wait for the reply ends with ctx.
func (m *Monitor) Execute(ctx context.Context, command string, args, out any) error {
	m.mu.Lock()
	if m.err != nil {
		err := m.err
		m.mu.Unlock()
		return err
	}
	m.nextID++
	id := "kumo-" + strconv.FormatUint(m.nextID, 10)
	ch := make(chan reply, 1)
	m.pending[id] = ch
	m.mu.Unlock()

	req := map[string]any{"execute": command, "id": id}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		m.forget(id)
		return fmt.Errorf("qmp: %s: %w", command, err)
	}
	m.wmu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		m.conn.SetWriteDeadline(dl)
	} else {
		m.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	}
	_, err = m.conn.Write(append(b, '\n'))
	m.wmu.Unlock()
	if err != nil {
		m.forget(id)
		return fmt.Errorf("qmp: %s: %w", command, err)
	}
	select {
	case rep := <-ch:
		if rep.err != nil {
			return fmt.Errorf("qmp %s: %w", command, rep.err)
		}
		if out != nil && len(rep.ret) > 0 {
			if err := json.Unmarshal(rep.ret, out); err != nil {
				return fmt.Errorf("qmp: %s: decode reply: %w", command, err)
			}
		}
		return nil
	case <-ctx.Done():
		m.forget(id)
		return fmt.Errorf("qmp: %s: %w", command, ctx.Err())
	}
}

func (m *Monitor) forget(id string) {
	m.mu.Lock()
	delete(m.pending, id)
	m.mu.Unlock()
}

// Done is closed when the connection has ended.
func (m *Monitor) Done() <-chan struct{} { return m.done }

// Err says why the connection ended (nil while it is up).
func (m *Monitor) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Close ends the connection; pending commands fail with ErrClosed.
func (m *Monitor) Close() error {
	err := m.conn.Close()
	<-m.done
	return err
}

// Subscribe returns a subscription to the named events (all events when
// none are named). Subscribe before sending the command that causes them.
func (m *Monitor) Subscribe(names ...string) *Subscription {
	s := &Subscription{m: m, c: make(chan Event, 64), names: map[string]bool{}}
	for _, n := range names {
		s.names[n] = true
	}
	m.mu.Lock()
	if m.err != nil {
		s.close()
	} else {
		m.subs[s] = struct{}{}
	}
	m.mu.Unlock()
	return s
}

// Subscription receives events until it is closed or the connection ends
// (then its channel is closed).
type Subscription struct {
	m      *Monitor
	c      chan Event
	names  map[string]bool
	closed bool
}

// C is the channel events arrive on.
func (s *Subscription) C() <-chan Event { return s.c }

// deliver is called with m.mu held. A subscriber that does not keep up
// loses events rather than stalling every other caller.
func (s *Subscription) deliver(ev Event) {
	if s.closed || (len(s.names) > 0 && !s.names[ev.Name]) {
		return
	}
	select {
	case s.c <- ev:
	default:
	}
}

func (s *Subscription) close() {
	if !s.closed {
		s.closed = true
		close(s.c)
	}
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.m.mu.Lock()
	delete(s.m.subs, s)
	s.close()
	s.m.mu.Unlock()
}

// Wait returns the first event named name, or an error when ctx ends or the
// connection goes away first.
func (s *Subscription) Wait(ctx context.Context, name string) (Event, error) {
	for {
		select {
		case ev, ok := <-s.c:
			if !ok {
				return Event{}, ErrClosed
			}
			if ev.Name == name {
				return ev, nil
			}
		case <-ctx.Done():
			return Event{}, fmt.Errorf("qmp: wait for %s: %w", name, ctx.Err())
		}
	}
}
