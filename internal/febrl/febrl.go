// Package febrl generates a Latin-script record-linkage dataset in the manner of FEBRL's
// generator (Christen, "Probabilistic data generation for deduplication and data linkage"):
// original records of persons — given name, surname, street number and address, suburb,
// postcode, date of birth, a social security number — and duplicates of some of them with
// typos, swapped name parts, missing values, nicknames and abbreviations. It is deterministic
// by seed and yields records.Record values with the truth beside, for testing the match
// engine on data that is neither Chinese nor shaped by the demo district.
package febrl

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
)

// Fields are the record fields the dataset fills (records.Record.Fields keys), beside "name"
// (given name and surname) and "birth_date". They are not canonical hub fields: a model reading
// them lists them in extra_fields.
var Fields = []string{"given_name", "surname", "street_number", "address", "suburb", "postcode", "ssn"}

// Options size a dataset.
type Options struct {
	Seed      uint64
	Originals int     // persons
	DupShare  float64 // share of persons that get duplicates (default 0.5)
	MaxDups   int     // duplicates per such person, 1..MaxDups (default 3)
	MaxMods   int     // corruptions per duplicate, 1..MaxMods (default 3)
	Source    string  // records' Source (default "febrl")
	Role      string  // records' SourceRole (default "")
}

// Dataset is the generated records and, index for index, the person each one describes.
type Dataset struct {
	Records []records.Record
	Truth   []string
}

type person struct {
	given, surname, number, street, suburb, postcode, dob, ssn string
}

// Generate makes a dataset.
func Generate(o Options) Dataset {
	if o.DupShare <= 0 {
		o.DupShare = 0.5
	}
	if o.MaxDups <= 0 {
		o.MaxDups = 3
	}
	if o.MaxMods <= 0 {
		o.MaxMods = 3
	}
	if o.Source == "" {
		o.Source = "febrl"
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	var ds Dataset
	ssns := map[string]bool{}
	for i := 0; i < o.Originals; i++ {
		p := person{
			given:   pick(r, givenNames),
			surname: pick(r, surnames),
			number:  fmt.Sprint(1 + r.IntN(r.IntN(300)+1)),
			street:  pick(r, streetNames) + " " + pick(r, streetTypes),
			suburb:  pick(r, suburbs),
			dob:     fmt.Sprintf("%04d%02d%02d", 1930+r.IntN(75), 1+r.IntN(12), 1+r.IntN(28)),
		}
		p.postcode = fmt.Sprint(2000 + r.IntN(7000))
		for p.ssn == "" || ssns[p.ssn] {
			p.ssn = fmt.Sprint(1000000 + r.IntN(9000000))
		}
		ssns[p.ssn] = true
		id := fmt.Sprintf("rec-%d", i)
		ds.add(o, id+"-org", id, p)
		if r.Float64() < o.DupShare {
			n := 1 + r.IntN(o.MaxDups)
			for d := 0; d < n; d++ {
				q := p
				for k := 1 + r.IntN(o.MaxMods); k > 0; k-- {
					corrupt(r, &q)
				}
				ds.add(o, fmt.Sprintf("%s-dup-%d", id, d), id, q)
			}
		}
	}
	// Shuffle, so that nothing depends on the order of generation.
	r.Shuffle(len(ds.Records), func(i, j int) {
		ds.Records[i], ds.Records[j] = ds.Records[j], ds.Records[i]
		ds.Truth[i], ds.Truth[j] = ds.Truth[j], ds.Truth[i]
	})
	return ds
}

func (ds *Dataset) add(o Options, key, truth string, p person) {
	f := map[string]string{"given_name": p.given, "surname": p.surname, "street_number": p.number, "address": p.street,
		"suburb": p.suburb, "postcode": p.postcode, "birth_date": p.dob, "ssn": p.ssn}
	for k, v := range f {
		if v == "" {
			delete(f, k)
		}
	}
	name := strings.TrimSpace(p.given + " " + p.surname)
	if name != "" {
		f["name"] = name
	}
	rec := records.Record{Key: o.Source + "\x1f" + key + "\x1fresident", Source: o.Source, SourceRole: o.Role, Loc: o.Source + ":" + key,
		Role: "resident", NameRaw: name, Name: standardize.ParseName(name), Fields: f, AddrRaw: strings.TrimSpace(p.number + " " + p.street)}
	if d, _, err := standardize.ParseDate(p.dob); err == nil {
		rec.Birth = d.String()
	}
	ds.Records = append(ds.Records, rec)
	ds.Truth = append(ds.Truth, truth)
}

// corrupt applies one FEBRL-style modification to a duplicate.
func corrupt(r *rand.Rand, p *person) {
	fields := []*string{&p.given, &p.surname, &p.number, &p.street, &p.suburb, &p.postcode, &p.dob, &p.ssn}
	switch k := r.IntN(10); {
	case k < 4: // a typo in a field
		f := fields[r.IntN(len(fields))]
		*f = typo(r, *f, f == &p.dob || f == &p.ssn || f == &p.postcode || f == &p.number)
	case k == 4: // a missing value
		*fields[r.IntN(len(fields))] = ""
	case k == 5: // a nickname
		if n, ok := nicknames[p.given]; ok {
			p.given = n
		} else {
			p.given = typo(r, p.given, false)
		}
	case k == 6: // an abbreviated street type
		for long, short := range abbreviations {
			if strings.HasSuffix(p.street, " "+long) {
				p.street = strings.TrimSuffix(p.street, long) + short
				return
			}
		}
		p.street = typo(r, p.street, false)
	case k == 7: // given name and surname swapped
		p.given, p.surname = p.surname, p.given
	case k == 8: // day and month of birth swapped (when both are days)
		if len(p.dob) == 8 && p.dob[4:6] <= "12" && p.dob[6:8] <= "12" && p.dob[4:6] != p.dob[6:8] {
			p.dob = p.dob[:4] + p.dob[6:8] + p.dob[4:6]
		} else {
			p.dob = typo(r, p.dob, true)
		}
	default: // a phonetic misspelling of the surname
		p.surname = phonetic(r, p.surname)
	}
}

// typo substitutes, inserts, deletes or transposes one character (digits only for numbers).
func typo(r *rand.Rand, s string, digits bool) string {
	rs := []rune(s)
	if len(rs) == 0 {
		return s
	}
	alpha := []rune("abcdefghijklmnopqrstuvwxyz")
	if digits {
		alpha = []rune("0123456789")
	}
	i := r.IntN(len(rs))
	c := alpha[r.IntN(len(alpha))]
	switch r.IntN(4) {
	case 0:
		rs[i] = c
	case 1:
		rs = append(rs[:i], append([]rune{c}, rs[i:]...)...)
	case 2:
		if len(rs) > 1 {
			rs = append(rs[:i], rs[i+1:]...)
		}
	default:
		if i+1 < len(rs) {
			rs[i], rs[i+1] = rs[i+1], rs[i]
		}
	}
	return string(rs)
}

func phonetic(r *rand.Rand, s string) string {
	for _, p := range [][2]string{{"ph", "f"}, {"ck", "k"}, {"ie", "y"}, {"ll", "l"}, {"th", "t"}, {"son", "sen"}, {"er", "ar"}, {"ou", "u"}} {
		if strings.Contains(s, p[0]) {
			return strings.Replace(s, p[0], p[1], 1)
		}
	}
	return typo(r, s, false)
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

var nicknames = map[string]string{
	"elizabeth": "liz", "william": "bill", "robert": "bob", "margaret": "peggy", "richard": "dick",
	"catherine": "kate", "james": "jim", "jennifer": "jenny", "michael": "mike", "katherine": "kathy",
	"thomas": "tom", "patricia": "pat", "joseph": "joe", "alexander": "alex", "christopher": "chris",
	"benjamin": "ben", "samantha": "sam", "jessica": "jess", "daniel": "dan", "rebecca": "becky",
}

var abbreviations = map[string]string{"street": "st", "road": "rd", "avenue": "ave", "place": "pl", "crescent": "cres", "drive": "dr", "court": "ct"}

var givenNames = []string{
	"elizabeth", "william", "robert", "margaret", "richard", "catherine", "james", "jennifer", "michael", "katherine",
	"thomas", "patricia", "joseph", "alexander", "christopher", "benjamin", "samantha", "jessica", "daniel", "rebecca",
	"olivia", "jack", "charlotte", "noah", "amelia", "liam", "isla", "lucas", "mia", "ethan", "grace", "oscar", "chloe",
	"henry", "ava", "leo", "emily", "harrison", "zoe", "lachlan", "sophie", "riley", "ruby", "cooper", "lily", "mason",
	"matilda", "archie", "ella", "hudson", "evie", "max", "harper", "charlie", "scarlett", "hunter", "willow", "jacob",
	"georgia", "levi", "sienna", "thea", "flynn", "hazel", "toby", "ivy", "finn", "madison", "luke", "abigail", "tyler",
}

var surnames = []string{
	"smith", "jones", "williams", "brown", "wilson", "taylor", "johnson", "white", "martin", "anderson", "thompson",
	"nguyen", "thomas", "walker", "harris", "lee", "ryan", "robinson", "kelly", "king", "davis", "wright", "evans",
	"roberts", "green", "hall", "wood", "jackson", "clarke", "patel", "khan", "lewis", "james", "phillips", "mitchell",
	"turner", "cooper", "hill", "campbell", "morris", "young", "allen", "scott", "edwards", "baker", "murphy", "stewart",
	"cook", "morgan", "bell", "parker", "watson", "collins", "hughes", "price", "bennett", "gray", "russell", "fraser",
	"mackenzie", "obrien", "sullivan", "hamilton", "graham", "wallace", "reid", "ferguson", "chapman", "dixon", "webb",
	"richardson", "foster", "mills", "hunt", "marshall", "ward", "payne", "spencer", "gibson", "knight", "elliott", "hudson",
	"barker", "stone", "pearce", "harvey", "porter", "gordon", "shaw", "holmes", "lawson", "black", "burke", "fleming",
	"douglas", "matthews", "kennedy", "nicholson", "moss", "jordan", "harper", "doyle", "henderson", "warren", "rose",
}

var streetNames = []string{
	"george", "victoria", "king", "queen", "church", "high", "park", "railway", "station", "william", "albert", "elizabeth",
	"macquarie", "bourke", "collins", "flinders", "pitt", "oxford", "bridge", "hill", "forest", "river", "lake", "ocean",
	"wattle", "banksia", "acacia", "eucalyptus", "jacaranda", "waratah", "kookaburra", "wombat", "lyrebird", "boronia",
	"hawthorn", "kensington", "windsor", "clarence", "camden", "mitchell", "sturt", "hume", "lachlan", "murray", "darling",
}

var streetTypes = []string{"street", "road", "avenue", "place", "crescent", "drive", "court", "lane", "parade", "close"}

var suburbs = []string{
	"paddington", "newtown", "glebe", "balmain", "manly", "bondi", "coogee", "randwick", "marrickville", "leichhardt",
	"ashfield", "burwood", "strathfield", "parramatta", "penrith", "blacktown", "liverpool", "campbelltown", "hornsby",
	"chatswood", "ryde", "epping", "castle hill", "baulkham hills", "sutherland", "cronulla", "hurstville", "kogarah",
	"rockdale", "mascot", "fitzroy", "carlton", "brunswick", "richmond", "st kilda", "prahran", "footscray", "geelong",
	"ballarat", "bendigo", "belconnen", "tuggeranong", "woden", "gungahlin", "queanbeyan", "wollongong", "newcastle",
}
