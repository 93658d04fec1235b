// Command uploads takes files in live forms: an avatar, shown before it
// is sent (a preview of the file chosen) and after, and a gallery that
// takes up to ten images at once, each with its progress and a button
// that removes it, before or during the upload; a reset button cancels
// them all; images dropped on the gallery's zone are taken too (drop.js,
// a few lines of the page's own). Files too large or of another type are refused next to their
// field. Without JavaScript both forms are plain multipart forms (303).
//
//	go run ./examples/uploads                # files in a temporary directory
//	go run ./examples/uploads -store s3      # an S3-compatible bucket in the process
//
// With -store s3 the browser sends each file straight to the bucket (a
// presigned PUT; data-lt-upload="direct" in uploads.html), here a
// gofakes3 server in the same process, on its own port (another origin,
// which the bucket's CORS rule allows); the app only signs the uploads
// and checks what arrived. The page is the same in both modes.
package main

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/livesse/livesse/lt"
)

//go:embed uploads.html drop.js
var files embed.FS

// The fields' limits.
const (
	AvatarMaxBytes  = 2 << 20
	GalleryMaxBytes = 64 << 20
	GalleryMaxFiles = 10
	// GalleryMax is how many photos the gallery keeps: the oldest go.
	GalleryMax = 30
)

// Photo is a stored image.
type Photo struct {
	Name string
	Key  string
	Size int64
}

// State is a session's avatar and gallery.
type State struct {
	Avatar Photo
	Photos []Photo
	// Direct tells the template that files go straight to the bucket.
	Direct bool
}

// Store is where the files go, and whence the page shows them.
type Store interface {
	lt.Store
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Page is the controller.
type Page struct {
	store  Store
	direct bool
}

// Mount tells the template which mode the app runs in.
func (p *Page) Mount(s State, ctx *lt.Context) (State, error) {
	s.Direct = p.direct
	return s, nil
}

// SaveAvatar keeps the image sent as the avatar, in place of the last one.
func (p *Page) SaveAvatar(s State, ctx *lt.Context) (State, error) {
	got := ctx.Files("avatar")
	if len(got) == 0 {
		return s, lt.FieldErrors{"avatar": "Choose an image first"}.Err()
	}
	if s.Avatar.Key != "" {
		p.remove(s.Avatar)
	}
	s.Avatar = Photo{Name: got[0].Name, Key: got[0].Key, Size: got[0].Size}
	return s, nil
}

// AddPhotos adds the images sent to the gallery, newest first.
func (p *Page) AddPhotos(s State, ctx *lt.Context) (State, error) {
	got := ctx.Files("gallery")
	if len(got) == 0 {
		return s, lt.FieldErrors{"gallery": "Choose images first"}.Err()
	}
	for _, f := range got {
		s.Photos = append([]Photo{{Name: f.Name, Key: f.Key, Size: f.Size}}, s.Photos...)
	}
	for len(s.Photos) > GalleryMax {
		p.remove(s.Photos[len(s.Photos)-1])
		s.Photos = s.Photos[:len(s.Photos)-1]
	}
	return s, nil
}

// Clear empties the gallery.
func (p *Page) Clear(s State, ctx *lt.Context) (State, error) {
	for _, ph := range s.Photos {
		p.remove(ph)
	}
	s.Photos = nil
	return s, nil
}

// remove deletes a file the page no longer shows; a failure is only
// logged (the file stays, unused).
func (p *Page) remove(ph Photo) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.store.Delete(ctx, ph.Key); err != nil {
		fmt.Fprintln(os.Stderr, "uploads: removing", ph.Key, err)
	}
}

// newApp builds the app on store; direct: the store presigns and the
// page's fields send their files straight to it.
func newApp(store Store, direct bool, secret []byte) (http.Handler, *lt.Handler, error) {
	page, err := lt.ParseFS(files, "uploads.html")
	if err != nil {
		return nil, nil, err
	}
	h, err := lt.New(page, &Page{store: store, direct: direct}, State{},
		lt.WithName("uploads"),
		lt.WithSecret(secret),
		lt.WithUpload("avatar", lt.Upload{
			MaxBytes: AvatarMaxBytes,
			Accept:   []string{"image/png", "image/jpeg", "image/gif", "image/webp"},
			Store:    store,
		}),
		lt.WithUpload("gallery", lt.Upload{
			MaxBytes: GalleryMaxBytes,
			MaxFiles: GalleryMaxFiles,
			Accept:   []string{"image/*"},
			Store:    store,
		}))
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", h)
	mux.HandleFunc("GET /drop.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFileFS(w, r, files, "drop.js")
	})
	mux.HandleFunc("GET /files/{key}", func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, store, r.PathValue("key"))
	})
	return mux, h, nil
}

// serveFile serves the stored file key. Keys are lt's (random, with the
// sniffed type's extension), never a path; the type is sent as sniffed
// again, and the file as an attachment unless it is an image, so that no
// upload is ever rendered as a page of this origin.
func serveFile(w http.ResponseWriter, r *http.Request, store Store, key string) {
	if strings.ContainsAny(key, `/\`) {
		http.NotFound(w, r)
		return
	}
	f, err := store.Open(r.Context(), key)
	if errors.Is(err, fs.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "cannot read the file", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	typ := http.DetectContentType(head[:n])
	w.Header().Set("Content-Type", typ)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !strings.HasPrefix(typ, "image/") {
		w.Header().Set("Content-Disposition", "attachment")
	}
	_, _ = w.Write(head[:n])
	_, _ = io.Copy(w, f)
}

func main() {
	addr := flag.String("addr", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "listen address (the default port is $PORT, when set)")
	mode := flag.String("store", "disk", "where files go: disk (a directory) or s3 (an S3-compatible bucket in this process)")
	dir := flag.String("dir", "", "the directory of -store disk (default: a new temporary one)")
	flag.Parse()
	if err := run(*addr, *mode, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "uploads:", err)
		os.Exit(1)
	}
}

func run(addr, mode, dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	origin := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var store Store
	switch mode {
	case "disk":
		if dir == "" {
			if dir, err = os.MkdirTemp("", "uploads-"); err != nil {
				return err
			}
			defer os.RemoveAll(dir)
		}
		store = diskStore{lt.DiskStore{Dir: dir}}
	case "s3":
		bucket, err := startBucket(nil)
		if err != nil {
			return err
		}
		defer bucket.Close()
		bucket.Allow(origin, strings.Replace(origin, "localhost", "127.0.0.1", 1))
		store = bucket.Store
		fmt.Printf("uploads: bucket at %s\n", bucket.URL)
	default:
		return fmt.Errorf("-store %q: disk or s3", mode)
	}
	// A fixed secret for a demo; a real app reads its own (see lt.WithSecret).
	r, h, err := newApp(store, mode == "s3", []byte("uploads example secret, not for production"))
	if err != nil {
		return err
	}
	fmt.Printf("uploads: serving %s/ (files: %s)\n", origin, mode)
	return lt.Serve(ctx, lt.NewServer(r), ln, h)
}

// diskStore adds a context to DiskStore.Open.
type diskStore struct{ lt.DiskStore }

func (d diskStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	return d.DiskStore.Open(key)
}
