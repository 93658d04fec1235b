package livetree

import (
	"bytes"
	"sort"
	"strconv"
)

// listDiff writes {"l":[ops]} turning the keyed items old into new:
//
//	["r",key]        remove the item
//	["m",key,pos]    move the item to pos
//	["i",pos,tree]   insert a new item at pos
//	["u",key,diff]   change an item in place
//
// Removes come first, then moves and inserts by ascending position, then
// updates. A client applies them in three passes: drop the removed items and
// take out the moved ones; put moved and new items in at their positions,
// in order; then apply the updates by key. Items that keep their relative
// order (the longest increasing run) are not moved.
func (e *Encoder) listDiff(b *bytes.Buffer, old, new []*Frag, ids *[]int) bool {
	oldPos := make(map[string]int, len(old))
	for i, f := range old {
		oldPos[f.Key] = i
	}
	newKeys := make(map[string]bool, len(new))
	for _, f := range new {
		newKeys[f.Key] = true
	}
	start := b.Len()
	b.WriteString(`{"l":[`)
	n := 0
	sep := func() {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
	}
	for _, f := range old {
		if !newKeys[f.Key] {
			sep()
			b.WriteString(`["r",`)
			WriteString(b, f.Key)
			b.WriteByte(']')
		}
	}
	// Kept items in new order, by their old positions: the longest
	// increasing run stays put.
	var keptNew []int // indexes into new
	var seq []int     // their old positions
	for i, f := range new {
		if p, ok := oldPos[f.Key]; ok {
			keptNew = append(keptNew, i)
			seq = append(seq, p)
		}
	}
	stay := make(map[int]bool, len(seq))
	for _, k := range lis(seq) {
		stay[keptNew[k]] = true
	}
	for i, f := range new {
		_, kept := oldPos[f.Key]
		switch {
		case !kept:
			sep()
			b.WriteString(`["i",`)
			b.WriteString(strconv.Itoa(i))
			b.WriteByte(',')
			e.frag(b, f, ids)
			b.WriteByte(']')
		case !stay[i]:
			sep()
			b.WriteString(`["m",`)
			WriteString(b, f.Key)
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(i))
			b.WriteByte(']')
		}
	}
	for _, f := range new {
		p, kept := oldPos[f.Key]
		if !kept {
			continue
		}
		mark := b.Len()
		sep()
		b.WriteString(`["u",`)
		WriteString(b, f.Key)
		b.WriteByte(',')
		if e.fragDiff(b, old[p], f, ids) {
			b.WriteByte(']')
		} else {
			b.Truncate(mark)
			n--
		}
	}
	if n == 0 {
		b.Truncate(start)
		return false
	}
	b.WriteString("]}")
	return true
}

// lis returns the indexes of a longest strictly increasing subsequence.
func lis(seq []int) []int {
	tails := []int{} // index in seq of the smallest tail of each length
	prev := make([]int, len(seq))
	for i, v := range seq {
		j := sort.Search(len(tails), func(k int) bool { return seq[tails[k]] >= v })
		if j > 0 {
			prev[i] = tails[j-1]
		} else {
			prev[i] = -1
		}
		if j == len(tails) {
			tails = append(tails, i)
		} else {
			tails[j] = i
		}
	}
	out := make([]int, len(tails))
	for k, i := len(tails)-1, -1; k >= 0; k-- {
		if k == len(tails)-1 {
			i = tails[k]
		}
		out[k] = i
		i = prev[i]
	}
	return out
}
