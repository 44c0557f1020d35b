package deptsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"communityhub/pipeline/standardize/idcard"
)

// Residence says under which register a person lives in the street.
type Residence uint8

const (
	Hukou    Residence = iota // 户籍: registered here (system 1)
	Floating                  // 流动: registered elsewhere, holds a residence permit (system 2)
	Foreign                   // 境外: no resident ID, a passport
)

func (r Residence) Label() string { return [...]string{"户籍", "流动", "境外"}[r] }

// Status is the 户籍 life status (人员状态).
type Status uint8

const (
	Active   Status = iota // 0 正常
	Dead                   // 1 死亡
	MovedOut               // 2 迁出 (or, for migrants, left and permit cancelled)
)

// Disability is a 残疾证 holder's category (1 视力 … 7 多重) and grade (1 most severe … 4).
type Disability struct {
	Category, Grade int
	Issued          time.Time
}

// Relief is a household's social assistance (system 3).
type Relief struct {
	Type    string // 城市低保 / 特困供养 / 临时救助
	Since   time.Time
	Active  bool // 在保 vs 停保
	Amount  float64
	FamilyN int
}

// Person is one real resident: the truth every source row is measured against.
type Person struct {
	Idx        int
	TID        string // truth id, e.g. P0000042
	Name       string
	Sex        int // GB/T 2261.1: 1 男, 2 女
	Birth      time.Time
	Ethnicity  string // GB/T 3304 code
	IDNo       string // valid 18-character number; empty for foreigners
	Passport   string // foreigners only
	Legacy     bool   // got an ID before 1999: older records may carry the 15-digit form
	HH         int    // household index
	Relation   string // GB/T 4761 code to the householder
	Residence  Residence
	Status     Status
	StatusDate time.Time
	Phone      string // current mobile, empty if none
	OldPhone   string // the number before a recent change, if any
	MovedIn    time.Time
	PrevAddr   *Address // flat before a recent move within the district
	PrevComm   int

	Disability *Disability
	Employment string // 登记失业 / 就业 / 灵活就业 / "" (never registered)
	Veteran    bool
	Volunteer  bool
	Party      bool
	Insured    bool
	ElderCare  bool // known to system 4
	Doctor     bool // family doctor signed (system 8)
	Chronic    []string
	BirthReg   bool // a birth registration row names this child (system 8)
	// Namesake is the truth id of the other member of the household who bears the same full
	// name (a son given his father's name, NameNamesake), empty if none.
	Namesake string
}

// Household is a 户 (registered) or a group living together (migrants, foreigners).
type Household struct {
	Idx       int
	TID       string // truth id, e.g. H000042
	HuHao     string // 户号 (registered households only)
	Kind      string // 家庭户 / 集体户
	Residence Residence
	Comm      int
	Grid      string
	Addr      Address
	Members   []int
	Landline  string
	Relief    *Relief
	Collected bool // visited by a grid worker (system 12)
}

// Population is the simulated street at one date.
type Population struct {
	AsOf        time.Time
	Communities []Community
	People      []Person
	Households  []Household
	// Stats count the population's own quirks (QuirkConfig[PopulationQuirks]).
	Stats []QuirkStat
}

// Age is whole years at the population's date.
func (p *Population) Age(x *Person) int { return ageOn(x.Birth, p.AsOf) }

func ageOn(birth, on time.Time) int {
	a := on.Year() - birth.Year()
	if on.Month() < birth.Month() || (on.Month() == birth.Month() && on.Day() < birth.Day()) {
		a--
	}
	return a
}

// Alone reports whether the person is the only living, present member of their household.
func (p *Population) Alone(x *Person) bool {
	n := 0
	for _, m := range p.Households[x.HH].Members {
		if p.People[m].Status == Active {
			n++
		}
	}
	return n == 1 && x.Status == Active
}

type popBuilder struct {
	r       *rand.Rand
	pop     *Population
	usedIDs map[string]bool
	flats   flatAllocator
	target  int
}

// Generate builds a deterministic population of about n people as of asOf, with the default
// population quirks.
func Generate(seed uint64, n int, asOf time.Time) *Population {
	return GenerateWith(seed, n, asOf, DefaultQuirks()[PopulationQuirks])
}

// GenerateWith is Generate with the given population quirk rates (NameNamesake), drawn from
// their own random stream so that a rate changes nobody else.
func GenerateWith(seed uint64, n int, asOf time.Time, rates Rates) *Population {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	nComm := max(1, int(math.Round(float64(n)/2500)))
	gridsPer := max(1, int(math.Round(float64(n)/float64(nComm)/300)))
	b := &popBuilder{
		r:       r,
		pop:     &Population{AsOf: asOf, Communities: makeCommunities(r, nComm, gridsPer)},
		usedIDs: make(map[string]bool, n),
		flats:   flatAllocator{used: map[string]bool{}, estate: map[string]int{}},
		target:  n,
	}
	for len(b.pop.People) < n {
		b.household()
	}
	q := newQuirker(PopulationQuirks, seed, rates)
	b.namesakes(q)
	b.pop.Stats = q.statList()
	b.lifeEvents()
	b.programmes()
	return b.pop
}

func (b *popBuilder) date(from, to time.Time) time.Time {
	d := to.Sub(from)
	if d <= 0 {
		return from
	}
	return from.Add(time.Duration(b.r.Int64N(int64(d/(24*time.Hour))+1)) * 24 * time.Hour).Truncate(24 * time.Hour)
}

// birthForAge draws a birth date for someone aged exactly age at AsOf.
func (b *popBuilder) birthForAge(age int) time.Time {
	end := b.pop.AsOf.AddDate(-age, 0, 0)
	start := end.AddDate(-1, 0, 1)
	return b.date(start, end)
}

func (b *popBuilder) between(lo, hi int) int { return lo + b.r.IntN(hi-lo+1) }

// elderAge draws 60+ with a realistic tail: about one in six of them 80+.
func (b *popBuilder) elderAge() int {
	a := 60 + int(b.r.ExpFloat64()*11)
	return min(a, 104)
}

func (b *popBuilder) household() {
	r := b.r
	res := Hukou
	switch x := r.Float64(); {
	case x < 0.005:
		res = Foreign
	case x < 0.20:
		res = Floating
	}
	hh := Household{Idx: len(b.pop.Households), Residence: res, Kind: "家庭户"}
	hh.TID = fmt.Sprintf("H%07d", hh.Idx+1)
	hh.Comm = r.IntN(len(b.pop.Communities))
	c := &b.pop.Communities[hh.Comm]
	hh.Grid = c.Grids[r.IntN(len(c.Grids))]
	hh.Addr = b.flats.next(r, c)
	if res == Hukou {
		hh.HuHao = fmt.Sprintf("%s%07d", districtCode, 1000000+hh.Idx)
		if r.Float64() < 0.3 {
			hh.Landline = fmt.Sprintf("025-8%07d", r.IntN(10000000))
		}
	}
	b.pop.Households = append(b.pop.Households, hh)
	h := &b.pop.Households[len(b.pop.Households)-1]

	surname := surnames.pick(r)
	add := func(age, sex int, rel string, sameSurname bool) int {
		s := ""
		if sameSurname {
			s = surname
		}
		return b.person(h, age, sex, rel, s)
	}
	if res != Hukou {
		switch x := r.Float64(); {
		case x < 0.5:
			add(b.between(19, 45), 1+r.IntN(2), "01", false)
		case x < 0.75:
			a := b.between(22, 50)
			add(a, 1, "01", true)
			add(max(20, a+b.between(-4, 2)), 2, "02", false)
		default:
			a := b.between(26, 45)
			add(a, 1, "01", true)
			add(max(22, a+b.between(-4, 2)), 2, "02", false)
			add(b.between(0, min(15, a-22)), 1+r.IntN(2), childRel(r), true)
		}
		return
	}
	switch x := r.Float64(); {
	case x < 0.20: // living alone: often elderly, more often women
		if r.Float64() < 0.55 {
			sex := 1
			if r.Float64() < 0.62 {
				sex = 2
			}
			add(b.elderAge(), sex, "01", true)
		} else {
			add(b.between(20, 59), 1+r.IntN(2), "01", true)
		}
	case x < 0.42: // couple; half of them elderly
		a := b.between(24, 59)
		if r.Float64() < 0.5 {
			a = b.elderAge()
		}
		add(a, 1, "01", true)
		add(max(20, a+b.between(-5, 2)), 2, "02", false)
	case x < 0.80: // parents and children
		a := b.between(27, 56)
		add(a, 1, "01", true)
		add(max(22, a+b.between(-5, 2)), 2, "02", false)
		for k := 0; k < 1+r.IntN(2); k++ {
			add(b.between(0, min(26, a-23)), 1+r.IntN(2), childRel(r), true)
		}
	default: // three generations
		a := b.between(30, 50)
		add(a, 1, "01", true)
		add(max(22, a+b.between(-5, 2)), 2, "02", false)
		add(b.between(0, min(20, a-24)), 1+r.IntN(2), childRel(r), true)
		ga := max(a+24, b.elderAge())
		add(ga, 1, "50", true)
		if r.Float64() < 0.7 {
			add(max(a+22, ga+b.between(-5, 2)), 2, "50", false)
		}
	}
}

// namesakes gives, with NameNamesake, a son his father's full name (father and son of one name
// in one flat); both remember the other in Namesake.
func (b *popBuilder) namesakes(q *quirker) {
	for hi := range b.pop.Households {
		var father, son *Person
		for _, m := range b.pop.Households[hi].Members {
			switch p := &b.pop.People[m]; {
			case p.Relation == "01" && p.Sex == 1:
				father = p
			case p.Relation == "20" && son == nil:
				son = p
			}
		}
		if father == nil || son == nil || !q.hit(NameNamesake) {
			continue
		}
		son.Name, son.Ethnicity = father.Name, father.Ethnicity
		son.Namesake, father.Namesake = father.TID, son.TID
	}
	q.take()
}

func childRel(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return "20"
	}
	return "30"
}

func (b *popBuilder) person(h *Household, age, sex int, rel, surname string) int {
	r := b.r
	if rel == "20" {
		sex = 1
	} else if rel == "30" {
		sex = 2
	}
	p := Person{Idx: len(b.pop.People), Sex: sex, Relation: rel, HH: h.Idx, Residence: h.Residence, Ethnicity: "01"}
	p.TID = fmt.Sprintf("P%07d", p.Idx+1)
	p.Birth = b.birthForAge(age)
	if r.Float64() < 0.006 {
		p.Name, p.Ethnicity = newMinorityName(r), "05"
	} else {
		p.Name = newName(r, sex, surname)
		if r.Float64() < 0.04 {
			p.Ethnicity = []string{"03", "04", "08", "02"}[r.IntN(4)] // 回, 藏…: Han-style names
		}
	}
	switch h.Residence {
	case Foreign:
		p.Passport = fmt.Sprintf("E%08d", r.IntN(100000000))
		p.Ethnicity = ""
	default:
		regions := localRegions
		if h.Residence == Floating {
			regions = migrantRegions
		}
		region := regions[r.IntN(len(regions))]
		for {
			seq := r.IntN(500)*2 + (sex % 2) // odd for men
			id, _ := idcard.Build(region, p.Birth, seq)
			if !b.usedIDs[id[:17]] {
				b.usedIDs[id[:17]] = true
				p.IDNo = id
				break
			}
		}
		p.Legacy = h.Residence == Hukou && p.Birth.Year() < 1980
	}
	if age >= 14 && !(age >= 80 && r.Float64() < 0.5) {
		p.Phone = mobile(r)
		if r.Float64() < 0.15 {
			p.OldPhone = mobile(r)
		}
	}
	b.pop.People = append(b.pop.People, p)
	h.Members = append(h.Members, p.Idx)
	return p.Idx
}

var mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "177", "180", "181", "186", "187", "188", "189", "199"}

func mobile(r *rand.Rand) string {
	return mobilePrefixes[r.IntN(len(mobilePrefixes))] + fmt.Sprintf("%08d", r.IntN(100000000))
}

// lifeEvents plants deaths, moves out and in; systems other than 户籍 lag behind them.
func (b *popBuilder) lifeEvents() {
	r, pop := b.r, b.pop
	recent := pop.AsOf.AddDate(-3, 0, 0)
	for i := range pop.People {
		p := &pop.People[i]
		age := pop.Age(p)
		pd := 0.002
		switch {
		case age >= 80:
			pd = 0.07
		case age >= 60:
			pd = 0.018
		}
		if p.Residence == Hukou && r.Float64() < pd {
			p.Status, p.StatusDate = Dead, b.date(recent, pop.AsOf.AddDate(0, 0, -3))
		}
	}
	for i := range pop.Households {
		h := &pop.Households[i]
		switch {
		case h.Residence == Hukou && r.Float64() < 0.015, h.Residence == Floating && r.Float64() < 0.08:
			when := b.date(pop.AsOf.AddDate(-2, 0, 0), pop.AsOf.AddDate(0, 0, -3))
			for _, m := range h.Members {
				if pop.People[m].Status == Active {
					pop.People[m].Status, pop.People[m].StatusDate = MovedOut, when
				}
			}
		case r.Float64() < 0.04 && len(pop.Communities) > 1:
			// Moved in within the last year from another community of the street: slow systems
			// still carry the old flat.
			when := b.date(pop.AsOf.AddDate(-1, 0, 0), pop.AsOf.AddDate(0, 0, -7))
			oc := (h.Comm + 1 + r.IntN(len(pop.Communities)-1)) % len(pop.Communities)
			old := b.flats.next(r, &pop.Communities[oc])
			for _, m := range h.Members {
				pop.People[m].MovedIn, pop.People[m].PrevAddr, pop.People[m].PrevComm = when, &old, oc
			}
		}
	}
}

// pickFraction marks about frac of the candidates, drawing with the given weights
// (Efraimidis–Spirakis), and calls mark for each chosen index until the target is met.
func (b *popBuilder) pickFraction(cands []int, weight func(int) float64, target int, size func(int) int, mark func(int)) {
	type kv struct {
		i int
		k float64
	}
	keys := make([]kv, 0, len(cands))
	for _, c := range cands {
		w := weight(c)
		if w <= 0 {
			continue
		}
		keys = append(keys, kv{c, math.Pow(b.r.Float64(), 1/w)})
	}
	sort.Slice(keys, func(a, z int) bool { return keys[a].k > keys[z].k })
	got := 0
	for _, e := range keys {
		if got >= target {
			break
		}
		mark(e.i)
		got += size(e.i)
	}
}

// programmes enrols people in the departments' programmes at realistic, overlapping rates.
func (b *popBuilder) programmes() {
	r, pop := b.r, b.pop
	n := len(pop.People)
	for i := range pop.People {
		p := &pop.People[i]
		age := pop.Age(p)
		pDis := 0.025
		switch {
		case age >= 60:
			pDis = 0.14
		case age < 18:
			pDis = 0.015
		}
		if p.Residence == Hukou && r.Float64() < pDis*1.45 {
			cat := weighted[int]{items: []int{4, 1, 2, 3, 5, 6, 7}, weights: []float64{50, 12, 10, 2, 8, 12, 6}}
			p.Disability = &Disability{Category: cat.pick(r), Grade: []int{1, 2, 2, 3, 3, 3, 4, 4, 4, 4}[r.IntN(10)],
				Issued: b.date(p.Birth.AddDate(1, 0, 0), pop.AsOf.AddDate(0, -1, 0))}
		}
		if age >= 16 && age < 60 && p.Residence != Foreign {
			switch x := r.Float64(); {
			case x < 0.05:
				p.Employment = "登记失业"
			case x < 0.09:
				p.Employment = "就业"
			case x < 0.11:
				p.Employment = "灵活就业"
			}
		}
		if age >= 22 && p.Residence == Hukou {
			pv := 0.0035
			if p.Sex == 1 {
				pv = 0.03
			}
			p.Veteran = r.Float64() < pv
		}
		p.Volunteer = age >= 14 && age <= 75 && r.Float64() < 0.13
		p.Party = age >= 18 && p.Residence != Foreign && r.Float64() < 0.075+0.035*float64(min(age, 90)-18)/72
		p.Insured = p.Residence != Foreign && r.Float64() < 0.955 && !(age == 0 && r.Float64() < 0.5)
		p.ElderCare = age >= 80 || (age >= 60 && r.Float64() < 0.25)
		if age >= 60 {
			if r.Float64() < 0.32 {
				p.Chronic = append(p.Chronic, "高血压")
			}
			if r.Float64() < 0.15 {
				p.Chronic = append(p.Chronic, "糖尿病")
			}
		}
		pDoc := 0.12
		switch {
		case age >= 60 || len(p.Chronic) > 0:
			pDoc = 0.7
		case age <= 6:
			pDoc = 0.5
		}
		p.Doctor = p.Residence != Foreign && r.Float64() < pDoc
		if age <= 2 && p.Relation != "01" && p.Residence != Foreign {
			p.BirthReg = true
		}
	}
	// 低保/特困: about 1.5% of people, drawn by household with the overlaps seen in practice.
	var cands []int
	for i := range pop.Households {
		if pop.Households[i].Residence == Hukou {
			cands = append(cands, i)
		}
	}
	weight := func(hi int) float64 {
		w := 1.0
		h := &pop.Households[hi]
		for _, m := range h.Members {
			p := &pop.People[m]
			if p.Disability != nil {
				w *= 4
			}
			if p.Employment == "登记失业" {
				w *= 3
			}
		}
		if len(h.Members) == 1 && pop.Age(&pop.People[h.Members[0]]) >= 60 {
			w *= 3
		}
		return w
	}
	b.pickFraction(cands, weight, int(0.015*float64(n)), func(hi int) int { return len(pop.Households[hi].Members) }, func(hi int) {
		h := &pop.Households[hi]
		rel := &Relief{Type: "城市低保", Active: r.Float64() < 0.92, FamilyN: len(h.Members)}
		if len(h.Members) == 1 && r.Float64() < 0.6 {
			rel.Type = "特困供养"
		} else if r.Float64() < 0.15 {
			rel.Type = "临时救助"
		}
		rel.Since = b.date(pop.AsOf.AddDate(-8, 0, 0), pop.AsOf.AddDate(0, -1, 0))
		switch rel.Type {
		case "特困供养":
			rel.Amount = 1780
		case "临时救助":
			rel.Amount = float64(500 + 100*r.IntN(20))
		default:
			rel.Amount = float64(len(h.Members)) * float64(600+10*r.IntN(51))
		}
		h.Relief = rel
	})
	for i := range pop.Households {
		pop.Households[i].Collected = r.Float64() < 0.93
	}
}
