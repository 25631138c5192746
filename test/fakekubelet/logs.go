package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-client/pkg/logs"
)

var (
	errDecode  = errors.New(`{"message": "Unable to decode query."}`)
	errInvalid = errors.New(`{"message": "Invalid request."}`)
)

// serveLogs answers GET /containerLogs/{namespace}/{pod}/{container} as the kubelet's server does:
// the same query parameters, status codes and messages, and the log read by the kubelet's own
// reader (logs.ReadLogs) from the container's CRI log file.
func (rt *fakeRuntime) serveLogs(w http.ResponseWriter, req *http.Request) {
	pod, container := req.PathValue("pod"), req.PathValue("container")
	opts, previous, err := logOptions(req.URL.Query())
	if err != nil {
		code := http.StatusBadRequest
		if err == errInvalid {
			code = http.StatusUnprocessableEntity
		}
		http.Error(w, err.Error(), code)
		return
	}
	podKey, _, ok := rt.lookup(w, req, fmt.Sprintf("pod %q does not exist", pod))
	if !ok {
		return
	}
	dir, err := rt.containerDir(podKey, container)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	runs := logRuns(dir)
	var run int
	switch {
	case previous && len(runs) < 2:
		http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", container, pod), http.StatusBadRequest)
		return
	case previous:
		run = runs[len(runs)-2]
	case len(runs) == 0:
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start - no logs yet", container, pod), http.StatusBadRequest)
		return
	default:
		run = runs[len(runs)-1]
	}

	flusher, _ := w.(http.Flusher)
	fw := flushWriter{w: w, f: flusher}
	w.Header().Set("Transfer-Encoding", "chunked")
	// The kubelet writes zero bytes first, so the headers go out before a follow blocks.
	_, _ = fw.Write([]byte{})
	status := containerStatus{dir: dir}
	id := fmt.Sprintf("%s#%d", dir, run)
	err = logs.ReadLogs(req.Context(), logPath(dir, run), id, opts, status, fw, fw)
	// As the kubelet, report a failure in the body; a client that went away gets nothing.
	if err != nil && req.Context().Err() == nil {
		_, _ = fmt.Fprintln(fw, err.Error())
	}
}

// logOptions decodes the query as the kubelet's parameter codec and ValidatePodLogOptions do, and
// converts it as its runtime manager does (sinceSeconds and sinceTime become one lower bound).
func logOptions(q url.Values) (*logs.LogOptions, bool, error) {
	boolean := func(name string) (bool, error) {
		v := q.Get(name)
		if v == "" {
			return false, nil
		}
		return strconv.ParseBool(v)
	}
	integer := func(name string) (*int64, error) {
		v := q.Get(name)
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		return &n, err
	}
	if tail := q.Get("tail"); tail != "" {
		q.Del("tail")
		if tail != "all" {
			q.Set("tailLines", tail)
		}
	}
	opts := &logs.LogOptions{}
	var err error
	var previous bool
	var sinceSeconds *int64
	if opts.Follow, err = boolean("follow"); err != nil {
		return nil, false, errDecode
	}
	if opts.Timestamp, err = boolean("timestamps"); err != nil {
		return nil, false, errDecode
	}
	if previous, err = boolean("previous"); err != nil {
		return nil, false, errDecode
	}
	if opts.TailLines, err = integer("tailLines"); err != nil {
		return nil, false, errDecode
	}
	if opts.LimitBytes, err = integer("limitBytes"); err != nil {
		return nil, false, errDecode
	}
	if sinceSeconds, err = integer("sinceSeconds"); err != nil {
		return nil, false, errDecode
	}
	var sinceTime time.Time
	if v := q.Get("sinceTime"); v != "" {
		if sinceTime, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, false, errDecode
		}
	}
	switch {
	case opts.TailLines != nil && *opts.TailLines < 0,
		opts.LimitBytes != nil && *opts.LimitBytes < 1,
		sinceSeconds != nil && *sinceSeconds < 1,
		sinceSeconds != nil && !sinceTime.IsZero():
		return nil, false, errInvalid
	}
	if sinceSeconds != nil {
		opts.Since = time.Now().Add(-time.Duration(*sinceSeconds) * time.Second)
	}
	if sinceTime.After(opts.Since) {
		opts.Since = sinceTime
	}
	return opts, previous, nil
}

// logRuns lists the runs that have a log file, in order.
func logRuns(dir string) []int {
	entries, _ := os.ReadDir(filepath.Join(dir, "logs"))
	var runs []int
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".log")); err == nil && strings.HasSuffix(e.Name(), ".log") {
			runs = append(runs, n)
		}
	}
	sort.Ints(runs)
	return runs
}

func logPath(dir string, run int) string {
	return filepath.Join(dir, "logs", fmt.Sprintf("%d.log", run))
}

// openCurrentLog opens the current run's log for appending, creating run 0 if there is none.
func openCurrentLog(dir string) (*os.File, error) {
	runs := logRuns(dir)
	run := 0
	if len(runs) > 0 {
		run = runs[len(runs)-1]
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(logPath(dir, run), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
}

// containerStatus answers the one runtime call a log follow makes: whether the container is still
// running. A run older than the newest has ended, and so has the newest once "exited" exists.
type containerStatus struct {
	internalapi.RuntimeService
	dir string
}

func (s containerStatus) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	state := runtimeapi.ContainerState_CONTAINER_RUNNING
	run, _ := strconv.Atoi(id[strings.LastIndex(id, "#")+1:])
	runs := logRuns(s.dir)
	if len(runs) > 0 && run < runs[len(runs)-1] {
		state = runtimeapi.ContainerState_CONTAINER_EXITED
	} else if _, err := os.Stat(filepath.Join(s.dir, "exited")); err == nil {
		state = runtimeapi.ContainerState_CONTAINER_EXITED
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: id, State: state}}, nil
}

// flushWriter sends every write at once, as the kubelet's flushwriter does.
type flushWriter struct {
	w io.Writer
	f http.Flusher
}

func (fw flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if fw.f != nil {
		fw.f.Flush()
	}
	return n, err
}
