package livetree

import "bytes"

// Region finds the live region of a rendered page: the content of <body>
// (from after the first <body ...> tag to the last </body>, or to the end),
// or all of it when there is no <body> tag. Package lt, the browser client
// and the Go test client all cut the page this way.
func Region(page []byte) (start, end int, hasBody bool) {
	open := indexTag(page, "<body")
	if open < 0 {
		return 0, len(page), false
	}
	gt := bytes.IndexByte(page[open:], '>')
	if gt < 0 {
		return 0, len(page), false
	}
	start = open + gt + 1
	end = lastIndexFold(page, []byte("</body"))
	if end < start {
		end = len(page)
	}
	return start, end, true
}

// indexTag finds an opening tag name (like "<body") case-insensitively,
// followed by whitespace, '>' or '/', so that <bodyguard> does not match.
func indexTag(b []byte, tag string) int {
	for i := 0; ; {
		j := indexFold(b[i:], []byte(tag))
		if j < 0 {
			return -1
		}
		k := i + j + len(tag)
		if k < len(b) {
			switch b[k] {
			case '>', '/', ' ', '\t', '\n', '\r', '\f':
				return i + j
			}
		}
		i = k
	}
}

// IndexTag is indexTag for package lt's head insertion.
func IndexTag(b []byte, tag string) int { return indexTag(b, tag) }

func indexFold(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// LastIndexFold returns the last case-insensitive occurrence of sub in b.
func LastIndexFold(b, sub []byte) int { return lastIndexFold(b, sub) }

func lastIndexFold(b, sub []byte) int {
	for i := len(b) - len(sub); i >= 0; i-- {
		if bytes.EqualFold(b[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
