// yaml-reference decodes YAML inputs the way Butane does (go-yaml v3, first document, into
// interface{}) and prints go-yaml's verdict for each: accepted with the typed value, or rejected
// with the error. nexus-init's tests compare src/butane/yaml.ts against these verdicts.
//
// Input on stdin: one "id<TAB>path" line per case. Output on stdout: a JSON object, one case per
// line, ids sorted. Values are tagged so that types survive JSON: null, true/false and strings
// stand for themselves; {"int":"N"} (exact), {"float":"F"} (Go's shortest 'g' form, "+Inf",
// "-Inf", "NaN"), {"time":"RFC3339Nano"}, [...] for sequences, {"map":[[key,value],...]} for
// mappings (pairs sorted by their JSON encoding).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

type verdict struct {
	OK    bool        `json:"ok"`
	Value interface{} `json:"value,omitempty"`
	Error string      `json:"error,omitempty"`
	Line  int         `json:"line,omitempty"`
}

var lineRe = regexp.MustCompile(`line (\d+)`)

// decode reads the first document as yaml.Unmarshal does; panics inside go-yaml (unhashable
// map keys) count as rejections.
func decode(data []byte) (v interface{}, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	err = yaml.Unmarshal(data, &v)
	return v, err
}

func tagged(v interface{}) interface{} {
	switch x := v.(type) {
	case nil:
		return nil
	case bool, string:
		return x
	case int:
		return map[string]string{"int": strconv.FormatInt(int64(x), 10)}
	case int64:
		return map[string]string{"int": strconv.FormatInt(x, 10)}
	case uint64:
		return map[string]string{"int": strconv.FormatUint(x, 10)}
	case float64:
		return map[string]string{"float": strconv.FormatFloat(x, 'g', -1, 64)}
	case time.Time:
		return map[string]string{"time": x.Format(time.RFC3339Nano)}
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			out[i] = tagged(e)
		}
		return out
	case map[string]interface{}:
		pairs := [][2]interface{}{}
		for k, e := range x {
			pairs = append(pairs, [2]interface{}{k, tagged(e)})
		}
		return sortedMap(pairs)
	case map[interface{}]interface{}:
		pairs := [][2]interface{}{}
		for k, e := range x {
			pairs = append(pairs, [2]interface{}{tagged(k), tagged(e)})
		}
		return sortedMap(pairs)
	default:
		return map[string]string{"other": fmt.Sprintf("%T %v", x, x)}
	}
}

func sortedMap(pairs [][2]interface{}) interface{} {
	key := func(i int) string {
		b, _ := json.Marshal(pairs[i][0])
		return string(b)
	}
	sort.Slice(pairs, func(i, j int) bool { return key(i) < key(j) })
	return map[string]interface{}{"map": pairs}
}

func main() {
	results := map[string]verdict{}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		id, path, ok := strings.Cut(in.Text(), "\t")
		if !ok {
			fmt.Fprintf(os.Stderr, "yaml-reference: bad input line %q\n", in.Text())
			os.Exit(2)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "yaml-reference: %v\n", err)
			os.Exit(2)
		}
		v, err := decode(data)
		if err != nil {
			r := verdict{OK: false, Error: err.Error()}
			if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
				r.Line, _ = strconv.Atoi(m[1])
			}
			results[id] = r
		} else {
			results[id] = verdict{OK: true, Value: tagged(v)}
		}
	}
	ids := make([]string, 0, len(results))
	for id := range results {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out bytes.Buffer
	out.WriteString("{\n")
	for i, id := range ids {
		k, _ := json.Marshal(id)
		v, _ := json.Marshal(results[id])
		out.Write(k)
		out.WriteString(": ")
		out.Write(v)
		if i < len(ids)-1 {
			out.WriteString(",")
		}
		out.WriteString("\n")
	}
	out.WriteString("}\n")
	os.Stdout.Write(out.Bytes())
}
