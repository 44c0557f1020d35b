package csvsrc

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"communityhub/connectors"
)

const benchRows = 2_000_000

// benchFile is a 2M-row UTF-8 CSV of realistic width (~300 MB), made once and kept in the
// temp folder between runs.
func benchFile(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "csvsrc-bench")
	path := filepath.Join(dir, fmt.Sprintf("people_%d_v1.csv", benchRows))
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤歐陽")
	given := []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欣悦晨曦梓涵子轩")
	districts := []string{"建邺区", "鼓楼区", "秦淮区", "玄武区", "栖霞区", "雨花台区", "江宁区", "浦口区"}
	streets := []string{"梦都大街", "江东中路", "奥体大街", "河西大街", "嘉陵江东街", "乐山路", "黄山路", "庐山路"}
	communities := []string{"梦都社区", "奥体社区", "新城社区", "滨江社区", "莲花社区", "兴隆社区"}
	nations := []string{"汉族", "汉族", "汉族", "回族", "满族", "壮族"}
	fmt.Fprintln(w, "序号,姓名,身份证号,性别,出生日期,民族,联系电话,户籍地址,所属社区,登记日期")
	for i := range benchRows {
		name := string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))])
		if rng.IntN(2) == 0 {
			name += string(given[rng.IntN(len(given))])
		}
		y, m, d := 1930+rng.IntN(90), 1+rng.IntN(12), 1+rng.IntN(28)
		sex := "男"
		if rng.IntN(2) == 0 {
			sex = "女"
		}
		addr := fmt.Sprintf("江苏省南京市%s%s%d号%d栋%d室", districts[rng.IntN(len(districts))], streets[rng.IntN(len(streets))],
			1+rng.IntN(300), 1+rng.IntN(30), 101+rng.IntN(2500))
		if rng.IntN(20) == 0 {
			addr = "\"" + addr + "，近地铁站, 东门\"" // some quoted, with the delimiter inside
		}
		fmt.Fprintf(w, "%d,%s,3201%02d%04d%02d%02d%03d%d,%s,%04d-%02d-%02d,%s,1%010d,%s,%s,2026-%02d-%02d\n",
			i+1, name, rng.IntN(20), y, m, d, rng.IntN(1000), rng.IntN(10), sex, y, m, d,
			nations[rng.IntN(len(nations))], rng.Int64N(1e10), addr, communities[rng.IntN(len(communities))],
			1+rng.IntN(11), 1+rng.IntN(28))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// countWriter counts what it is given.
type countWriter struct{ rows, rejects, skipped int }

func (c *countWriter) Write(b arrow.RecordBatch) error { c.rows += int(b.NumRows()); return nil }
func (c *countWriter) Reject(connectors.Reject) error  { c.rejects++; return nil }
func (c *countWriter) Skipped(string, int)             { c.skipped++ }
func (c *countWriter) Checkpoint(string)               {}

func BenchmarkRead2M(b *testing.B) {
	path := benchFile(b)
	st, _ := os.Stat(path)
	src, err := New(connectors.Config{Name: "bench", Kind: "csv", BaseDir: filepath.Dir(path),
		Options: map[string]any{"glob": filepath.Base(path)}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	start := time.Now()
	rows := 0
	for range b.N {
		w := &countWriter{}
		if err := src.Read(context.Background(), connectors.ReadRequest{}, w); err != nil {
			b.Fatal(err)
		}
		if w.rows != benchRows || w.rejects != 0 {
			b.Fatalf("%d rows, %d rejects", w.rows, w.rejects)
		}
		rows += w.rows
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}
