package sip

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/versement/versement/extract"
	"github.com/versement/versement/profiles"
)

// dictionaryDoc is the data dictionary object of a SIP: what the tables and columns of the
// dossiers' documents are, so that the data can be read without the source application.
type dictionaryDoc struct {
	Format  string            `json:"format"`
	Profile string            `json:"profile"`
	Class   string            `json:"class"`
	Key     string            `json:"key"`
	Tables  []dictionaryTable `json:"tables"`
}

type dictionaryTable struct {
	Name       string             `json:"name"`
	Comment    string             `json:"comment,omitempty"`
	PrimaryKey []string           `json:"primary_key,omitempty"`
	Columns    []dictionaryColumn `json:"columns"`
}

type dictionaryColumn struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	DBType   string `json:"db_type,omitempty"`
	Nullable bool   `json:"nullable"`
	Meaning  string `json:"meaning,omitempty"`
}

// DictionaryFormat names the layout of the data dictionary object.
const DictionaryFormat = "versement-dictionary/1"

// Dictionary is the data dictionary object of the class's SIPs, from the source's description of
// its tables (src nil: the tables are not listed).
func Dictionary(ctx context.Context, p *profiles.Profile, c *profiles.Class, src extract.Source) ([]byte, error) {
	doc := dictionaryDoc{Format: DictionaryFormat, Profile: p.Name, Class: c.Name, Key: c.Root.Table + "." + c.Root.Key, Tables: []dictionaryTable{}}
	if src != nil {
		infos, err := c.Dictionary(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("class %s: data dictionary: %w", c.Name, err)
		}
		for _, ti := range infos {
			t := dictionaryTable{Name: ti.Name, Comment: ti.Comment, PrimaryKey: ti.PrimaryKey, Columns: []dictionaryColumn{}}
			for _, col := range ti.Columns {
				t.Columns = append(t.Columns, dictionaryColumn{Name: col.Name, Kind: string(col.Kind), DBType: col.DBType, Nullable: col.Nullable, Meaning: col.Comment})
			}
			doc.Tables = append(doc.Tables, t)
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}
