package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
)

// fakeRuntime implements the interfaces the streaming server calls (remotecommand.Executor,
// remotecommand.Attacher, portforward.PortForwarder) with local processes. The pod name it is
// given is "namespace/name", the key lookup() makes.
type fakeRuntime struct {
	root string

	mu sync.Mutex
	// Process-group leaders still running, killed with their groups when the program exits.
	running map[int]struct{}
	// The main process of each container (by directory), started by the first attach.
	mains map[string]*mainProcess
}

func newRuntime(root string) *fakeRuntime {
	return &fakeRuntime{root: root, running: map[int]struct{}{}, mains: map[string]*mainProcess{}}
}

// lookup answers 404 with notFound, as the kubelet does, when the pod does not exist.
func (rt *fakeRuntime) lookup(w http.ResponseWriter, req *http.Request, notFound string) (podKey, container string, ok bool) {
	ns, pod, container := req.PathValue("namespace"), req.PathValue("pod"), req.PathValue("container")
	for _, s := range []string{ns, pod, container} {
		if s == "." || s == ".." || strings.ContainsAny(s, "/\\") {
			http.Error(w, "invalid name", http.StatusBadRequest)
			return "", "", false
		}
	}
	if _, err := os.Stat(rt.podDir(ns, pod)); err != nil {
		http.Error(w, notFound, http.StatusNotFound)
		return "", "", false
	}
	return ns + "/" + pod, container, true
}

func (rt *fakeRuntime) podDir(ns, pod string) string {
	return filepath.Join(rt.root, "pods", ns, pod)
}

// containerDir is the state directory of a container, or the error a runtime gives for one it
// does not know.
func (rt *fakeRuntime) containerDir(podKey, container string) (string, error) {
	ns, pod, _ := strings.Cut(podKey, "/")
	dir := filepath.Join(rt.podDir(ns, pod), container)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("container %q not found in pod %q", container, pod)
	}
	return dir, nil
}

// command prepares a process as a container runtime would: the container's working directory and
// a minimal environment (runc sets TERM=xterm when there is a terminal).
func command(dir, podKey string, argv []string, tty bool) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command given")
	}
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = root
	_, pod, _ := strings.Cut(podKey, "/")
	c.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + root,
		"HOSTNAME=" + pod,
	}
	if tty {
		c.Env = append(c.Env, "TERM=xterm")
	}
	return c, nil
}

func (rt *fakeRuntime) track(pid int) (untrack func()) {
	rt.mu.Lock()
	rt.running[pid] = struct{}{}
	rt.mu.Unlock()
	return func() {
		rt.mu.Lock()
		delete(rt.running, pid)
		rt.mu.Unlock()
	}
}

func (rt *fakeRuntime) killAll() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for pid := range rt.running {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// exitStatus is how a runtime reports a command that ran and ended: ServeExec turns it into the
// NonZeroExitCode status (k8s.io/utils/exec.ExitError). A process killed by a signal counts as
// exit code 128+signal, as container runtimes report it.
type exitStatus struct {
	code int
	msg  string
}

func (e exitStatus) Error() string   { return e.msg }
func (e exitStatus) String() string  { return e.msg }
func (e exitStatus) Exited() bool    { return true }
func (e exitStatus) ExitStatus() int { return e.code }

func exitError(argv []string, err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return exitStatus{code: code, msg: fmt.Sprintf("error executing command %v, exit code %d", argv, code)}
}

// ExecInContainer runs argv as a local process. Without a terminal, stdin's end (the client's
// close signal, or the connection going away) closes the process's stdin. With one, it is sent
// as ^D, which is what a terminal does.
func (rt *fakeRuntime) ExecInContainer(_ context.Context, podKey, _, container string, argv []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	dir, err := rt.containerDir(podKey, container)
	if err != nil {
		return err
	}
	c, err := command(dir, podKey, argv, tty)
	if err != nil {
		return err
	}
	if tty {
		return exitError(argv, rt.runWithTerminal(c, in, out, resize))
	}
	go drainResizes(resize)
	return exitError(argv, rt.runWithPipes(c, in, out, errOut))
}

func drainResizes(resize <-chan remotecommand.TerminalSize) {
	if resize == nil {
		return
	}
	for range resize {
	}
}

func (rt *fakeRuntime) runWithPipes(c *exec.Cmd, in io.Reader, out, errOut io.Writer) error {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdin io.WriteCloser
	if in != nil {
		var err error
		if stdin, err = c.StdinPipe(); err != nil {
			return err
		}
	}
	if out != nil {
		c.Stdout = out
	}
	if errOut != nil {
		c.Stderr = errOut
	}
	if err := c.Start(); err != nil {
		return err
	}
	defer rt.track(c.Process.Pid)()
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, in)
			_ = stdin.Close()
		}()
	}
	return c.Wait()
}

func (rt *fakeRuntime) runWithTerminal(c *exec.Cmd, in io.Reader, out io.Writer, resize <-chan remotecommand.TerminalSize) error {
	master, slave, err := openPTY()
	if err != nil {
		return err
	}
	defer master.Close()
	c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = c.Start()
	_ = slave.Close()
	if err != nil {
		return err
	}
	defer rt.track(c.Process.Pid)()
	go func() {
		for size := range resize {
			_ = setWindowSize(master, size.Width, size.Height)
		}
	}()
	if in != nil {
		go func() {
			_, _ = io.Copy(master, in)
			_, _ = master.Write([]byte{4})
		}()
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		if out == nil {
			out = io.Discard
		}
		// Ends with EIO once no process holds the terminal any more.
		_, _ = io.Copy(out, master)
	}()
	err = c.Wait()
	<-copied
	return err
}

// PortForward connects the stream to 127.0.0.1:port, standing in for the pod's network namespace.
// As the kubelet's runtimes do, the end of the client's stream half-closes the connection, and
// the forward ends when the far side closes.
func (rt *fakeRuntime) PortForward(_ context.Context, podKey, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("failed to connect to localhost:%d inside namespace of pod %q: %w", port, podKey, err)
	}
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, stream)
		_ = conn.(*net.TCPConn).CloseWrite()
	}()
	_, err = io.Copy(stream, conn)
	return err
}

// mainProcess is a container's long-running process: what attach connects to. Its output goes to
// every attached client and to the container's current log file.
type mainProcess struct {
	stdin io.WriteCloser
	done  chan struct{}

	mu       sync.Mutex
	watchers map[*attachment]struct{}
}

type attachment struct {
	out, err io.Writer
	gone     chan struct{}
	once     sync.Once
}

func (a *attachment) detach() { a.once.Do(func() { close(a.gone) }) }

func (m *mainProcess) broadcast(stream string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for a := range m.watchers {
		w := a.out
		if stream == "stderr" {
			w = a.err
		}
		if w == nil {
			continue
		}
		if _, err := w.Write(data); err != nil {
			delete(m.watchers, a)
			a.detach()
		}
	}
}

type attachSpec struct {
	Command []string `json:"command"`
}

func (rt *fakeRuntime) mainProcessOf(podKey, dir string) (*mainProcess, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if m := rt.mains[dir]; m != nil {
		select {
		case <-m.done:
		default:
			return m, nil
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "attach.json"))
	if err != nil {
		return nil, errors.New("container is not running")
	}
	var spec attachSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, err
	}
	c, err := command(dir, podKey, spec.Command, false)
	if err != nil {
		return nil, err
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := c.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := c.StderrPipe()
	if err != nil {
		return nil, err
	}
	log, err := openCurrentLog(dir)
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		_ = log.Close()
		return nil, err
	}
	_ = os.Remove(filepath.Join(dir, "exited"))
	rt.running[c.Process.Pid] = struct{}{}
	m := &mainProcess{stdin: stdin, done: make(chan struct{}), watchers: map[*attachment]struct{}{}}
	rt.mains[dir] = m
	var pumps sync.WaitGroup
	pumps.Add(2)
	var logMu sync.Mutex
	go m.pump(stdout, "stdout", log, &logMu, &pumps)
	go m.pump(stderr, "stderr", log, &logMu, &pumps)
	go func() {
		pumps.Wait()
		_ = c.Wait()
		_ = log.Close()
		rt.mu.Lock()
		delete(rt.running, c.Process.Pid)
		rt.mu.Unlock()
		_ = os.WriteFile(filepath.Join(dir, "exited"), nil, 0o644)
		close(m.done)
	}()
	return m, nil
}

// pump copies one output stream of the main process to the attached clients, and to the log file
// as CRI log lines.
func (m *mainProcess) pump(r io.Reader, stream string, log *os.File, logMu *sync.Mutex, done *sync.WaitGroup) {
	defer done.Done()
	var partial []byte
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m.broadcast(stream, buf[:n])
			partial = append(partial, buf[:n]...)
			for {
				i := bytes.IndexByte(partial, '\n')
				if i < 0 {
					break
				}
				writeLogLine(log, logMu, stream, partial[:i])
				partial = partial[i+1:]
			}
		}
		if err != nil {
			if len(partial) > 0 {
				writeLogLine(log, logMu, stream, partial)
			}
			return
		}
	}
}

func writeLogLine(log *os.File, mu *sync.Mutex, stream string, line []byte) {
	mu.Lock()
	defer mu.Unlock()
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	_, _ = fmt.Fprintf(log, "%s %s F %s\n", ts, stream, line)
}

// AttachContainer connects a client to the container's main process until that process ends or
// the client can no longer be written to. Output from before the attach is only in the log.
func (rt *fakeRuntime) AttachContainer(_ context.Context, podKey, _, container string, in io.Reader, out, errOut io.WriteCloser, _ bool, resize <-chan remotecommand.TerminalSize) error {
	dir, err := rt.containerDir(podKey, container)
	if err != nil {
		return err
	}
	m, err := rt.mainProcessOf(podKey, dir)
	if err != nil {
		return err
	}
	go drainResizes(resize)
	a := &attachment{gone: make(chan struct{})}
	if out != nil {
		a.out = out
	}
	if errOut != nil {
		a.err = errOut
	}
	m.mu.Lock()
	m.watchers[a] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.watchers, a)
		m.mu.Unlock()
	}()
	if in != nil {
		go func() { _, _ = io.Copy(m.stdin, in) }()
	}
	select {
	case <-m.done:
	case <-a.gone:
	}
	return nil
}
