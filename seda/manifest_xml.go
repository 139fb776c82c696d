package seda

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/versement/versement/civil"
)

// element is the object's BinaryDataObject, once its digest and size are known.
func (ow *ObjectWriter) element(algo DigestAlgorithm) (*etree.Element, error) {
	o := ow.obj
	e := etree.NewElement("BinaryDataObject")
	e.CreateAttr("id", ow.id)
	e.CreateElement("DataObjectVersion").SetText(o.Version)
	e.CreateElement("Uri").SetText("Content/" + o.Name)
	md := e.CreateElement("MessageDigest")
	md.CreateAttr("algorithm", string(algo))
	md.SetText(ow.digest)
	if ow.size > 0 { // Size is xs:positiveInteger: an empty file cannot declare 0
		e.CreateElement("Size").SetText(strconv.FormatInt(ow.size, 10))
	}
	if o.FormatLitteral != "" || o.MimeType != "" || o.FormatID != "" || o.Encoding != "" {
		f := e.CreateElement("FormatIdentification")
		if o.FormatLitteral != "" {
			textElem(f, "FormatLitteral", o.FormatLitteral)
		}
		for _, kv := range [][2]string{{"MimeType", o.MimeType}, {"FormatId", o.FormatID}, {"Encoding", o.Encoding}} {
			if kv[1] != "" {
				if err := tokenElem(f, kv[0], kv[1]); err != nil {
					return nil, err
				}
			}
		}
	}
	fi := e.CreateElement("FileInfo")
	fn := o.Filename
	if fn == "" {
		fn = o.Name
	}
	textElem(fi, "Filename", fn)
	if !o.LastModified.IsZero() {
		fi.CreateElement("LastModified").SetText(o.LastModified.Format(time.RFC3339Nano))
	}
	return e, nil
}

func (w *Writer) unitChildren(u Unit) ([]*etree.Element, error) {
	var out []*etree.Element
	if u.ArchiveUnitProfile != "" {
		e := etree.NewElement("ArchiveUnitProfile")
		v, err := token("ArchiveUnitProfile", u.ArchiveUnitProfile)
		if err != nil {
			return nil, err
		}
		e.SetText(v)
		out = append(out, e)
	}
	if !u.Management.IsZero() {
		m := etree.NewElement("Management")
		if err := u.Management.appendTo(m, w.h.Version); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	c, err := u.Content.element(w.h.Version)
	if err != nil {
		return nil, err
	}
	out = append(out, c)
	for _, g := range u.Groups {
		if !w.groupExists(g) {
			return nil, fmt.Errorf("seda: DataObjectGroup %q does not exist: reference groups returned by ObjectWriter.Group()", g)
		}
		r := etree.NewElement("DataObjectReference")
		r.CreateElement("DataObjectGroupReferenceId").SetText(string(g))
		out = append(out, r)
	}
	return out, nil
}

func (c Content) element(v Version) (*etree.Element, error) {
	e := etree.NewElement("Content")
	if !levels[c.DescriptionLevel] {
		return nil, fmt.Errorf("seda: DescriptionLevel %q: want one of Fonds, Subfonds, Class, Collection, Series, Subseries, RecordGrp, SubGrp, File, Item, OtherLevel", c.DescriptionLevel)
	}
	e.CreateElement("DescriptionLevel").SetText(c.DescriptionLevel)
	title, _ := CleanText(c.Title)
	if strings.TrimSpace(title) == "" {
		return nil, errors.New("seda: Title is empty (VITAM requires a title on every unit)")
	}
	e.CreateElement("Title").SetText(title)
	for _, l := range []struct {
		name string
		vs   []string
	}{{"FilePlanPosition", c.FilePlanPosition}, {"OriginatingSystemId", c.OriginatingSystemID}, {"ArchivalAgencyArchiveUnitIdentifier", c.ArchivalAgencyArchiveUnitIdentifier}, {"OriginatingAgencyArchiveUnitIdentifier", c.OriginatingAgencyArchiveUnitIdentifier}} {
		for _, v := range l.vs {
			if err := tokenElem(e, l.name, v); err != nil {
				return nil, err
			}
		}
	}
	if c.Description != "" {
		textElem(e, "Description", c.Description)
	}
	if c.Type != "" {
		textElem(e, "Type", c.Type)
	}
	if c.DocumentType != "" {
		textElem(e, "DocumentType", c.DocumentType)
	}
	for _, l := range c.Language {
		if !language.MatchString(l) {
			return nil, fmt.Errorf("seda: Language %q is not a language tag (e.g. fr, en-GB)", l)
		}
		e.CreateElement("Language").SetText(l)
	}
	if c.DescriptionLanguage != "" {
		if !language.MatchString(c.DescriptionLanguage) {
			return nil, fmt.Errorf("seda: DescriptionLanguage %q is not a language tag (e.g. fr)", c.DescriptionLanguage)
		}
		e.CreateElement("DescriptionLanguage").SetText(c.DescriptionLanguage)
	}
	if c.Status != "" {
		if err := tokenElem(e, "Status", c.Status); err != nil {
			return nil, err
		}
	}
	for _, t := range c.Tags {
		if err := tokenElem(e, "Tag", t); err != nil {
			return nil, err
		}
	}
	for _, k := range c.Keywords {
		ke := e.CreateElement("Keyword")
		textElem(ke, "KeywordContent", k.Content)
		if k.Reference != "" {
			if err := tokenElem(ke, "KeywordReference", k.Reference); err != nil {
				return nil, err
			}
		}
		if k.Type != "" {
			if !keyTypes[k.Type] {
				return nil, fmt.Errorf("seda: KeywordType %q: want corpname, famname, geogname, name, occupation, persname, subject, genreform or function", k.Type)
			}
			ke.CreateElement("KeywordType").SetText(k.Type)
		}
	}
	for _, a := range []struct{ name, id string }{{"OriginatingAgency", c.OriginatingAgency}, {"SubmissionAgency", c.SubmissionAgency}} {
		if a.id != "" {
			if err := tokenElem(e.CreateElement(a.name), "Identifier", a.id); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range c.Agents {
		if a.IsZero() {
			continue
		}
		if v == V21 {
			return nil, errors.New("seda: Agent needs SEDA 2.2 or later (the message is SEDA 2.1)")
		}
		if err := a.appendTo(e.CreateElement("Agent")); err != nil {
			return nil, err
		}
	}
	if c.Source != "" {
		textElem(e, "Source", c.Source)
	}
	for _, d := range []struct {
		name string
		d    civil.Date
	}{{"CreatedDate", c.CreatedDate}, {"StartDate", c.StartDate}, {"EndDate", c.EndDate}} {
		if !d.d.IsZero() && !d.d.Valid() {
			return nil, fmt.Errorf("seda: %s %+v does not exist", d.name, d.d)
		}
		dateElem(e, d.name, d.d)
	}
	return e, nil
}

// appendTo writes the agent's fields in AgentType's order (FirstName, BirthName, FullName,
// GivenName, Gender, BirthDate…).
func (a Agent) appendTo(e *etree.Element) error {
	for _, f := range []struct{ name, text string }{{"FirstName", a.FirstName}, {"BirthName", a.BirthName}, {"GivenName", a.GivenName}} {
		if f.text != "" {
			textElem(e, f.name, f.text)
		}
	}
	if !a.BirthDate.IsZero() {
		if !a.BirthDate.Valid() {
			return fmt.Errorf("seda: Agent BirthDate %+v does not exist", a.BirthDate)
		}
		e.CreateElement("BirthDate").SetText(a.BirthDate.String())
	}
	return nil
}

func (w *Writer) writeManifest(out io.Writer) error {
	bw := bufio.NewWriterSize(out, 64<<10)
	h := w.h
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ArchiveTransfer xmlns=\"%s\">\n", h.Version.Namespace())
	var head []*etree.Element
	if h.Comment != "" {
		e := etree.NewElement("Comment")
		v, _ := CleanText(h.Comment)
		e.SetText(v)
		head = append(head, e)
	}
	head = append(head, simple("Date", h.Date.Format("2006-01-02T15:04:05Z07:00")))
	mid, _ := token("MessageIdentifier", h.MessageIdentifier)
	head = append(head, simple("MessageIdentifier", mid))
	if h.ArchivalAgreement != "" {
		v, err := token("ArchivalAgreement", h.ArchivalAgreement)
		if err != nil {
			return err
		}
		head = append(head, simple("ArchivalAgreement", v))
	}
	clv, err := h.CodeListVersions.element()
	if err != nil {
		return err
	}
	head = append(head, clv)
	for _, e := range head {
		if err := writeElement(bw, e); err != nil {
			return err
		}
	}
	io.WriteString(bw, "<DataObjectPackage>\n")
	if err := w.groups.copyTo(bw); err != nil {
		return err
	}
	io.WriteString(bw, "<DescriptiveMetadata>\n")
	if w.first != nil {
		children, err := w.unitChildren(*w.first)
		if err != nil {
			return fmt.Errorf("unit AU-1 (%q): %w", w.first.Content.Title, err)
		}
		if err := w.writeUnitHead(bw, "AU-1", children); err != nil {
			return err
		}
	}
	if err := w.units.copyTo(bw); err != nil {
		return err
	}
	io.WriteString(bw, "</DescriptiveMetadata>\n")
	mm := etree.NewElement("ManagementMetadata")
	for _, kv := range [][2]string{{"ArchivalProfile", h.ArchivalProfile}, {"LegalStatus", h.LegalStatus}, {"OriginatingAgencyIdentifier", h.OriginatingAgencyIdentifier}, {"SubmissionAgencyIdentifier", h.SubmissionAgencyIdentifier}} {
		if kv[1] != "" {
			if err := tokenElem(mm, kv[0], kv[1]); err != nil {
				return err
			}
		}
	}
	if err := h.Management.appendTo(mm, h.Version); err != nil {
		return err
	}
	if err := writeElement(bw, mm); err != nil {
		return err
	}
	io.WriteString(bw, "</DataObjectPackage>\n")
	for _, a := range [][2]string{{"ArchivalAgency", h.ArchivalAgency}, {"TransferringAgency", h.TransferringAgency}} {
		e := etree.NewElement(a[0])
		if err := tokenElem(e, "Identifier", a[1]); err != nil {
			return err
		}
		if err := writeElement(bw, e); err != nil {
			return err
		}
	}
	io.WriteString(bw, "</ArchiveTransfer>\n")
	return bw.Flush()
}

func (c CodeListVersions) element() (*etree.Element, error) {
	e := etree.NewElement("CodeListVersions")
	for _, kv := range [][2]string{
		{"ReplyCodeListVersion", c.Reply}, {"MessageDigestAlgorithmCodeListVersion", c.MessageDigestAlgorithm},
		{"MimeTypeCodeListVersion", c.MimeType}, {"EncodingCodeListVersion", c.Encoding},
		{"FileFormatCodeListVersion", c.FileFormat}, {"CompressionAlgorithmCodeListVersion", c.CompressionAlgorithm},
		{"DataObjectVersionCodeListVersion", c.DataObjectVersion}, {"StorageRuleCodeListVersion", c.StorageRule},
		{"AppraisalRuleCodeListVersion", c.AppraisalRule}, {"AccessRuleCodeListVersion", c.AccessRule},
		{"DisseminationRuleCodeListVersion", c.DisseminationRule}, {"ReuseRuleCodeListVersion", c.ReuseRule},
		{"ClassificationRuleCodeListVersion", c.ClassificationRule}, {"HoldRuleCodeListVersion", c.HoldRule},
		{"AcquisitionInformationCodeListVersion", c.AcquisitionInformation},
		{"AuthorizationReasonCodeListVersion", c.AuthorizationReason}, {"RelationshipCodeListVersion", c.Relationship},
	} {
		if kv[1] != "" {
			if err := tokenElem(e, kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func simple(name, text string) *etree.Element {
	e := etree.NewElement(name)
	e.SetText(text)
	return e
}

var (
	writeSettings  = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	indentSettings = &etree.IndentSettings{Spaces: 1, PreserveLeafWhitespace: true, SuppressTrailingWhitespace: true}
)

// onePass is false only in TestManifestXMLEquivalence, which writes the same model through etree
// alone and compares the manifests.
var onePass = true

// writeElement writes e indented within itself (auditors read manifests), leaving text untouched.
func writeElement(bw *bufio.Writer, e *etree.Element) error {
	if onePass && plainTree(e) {
		// The common case (every unit and object group): the same bytes as etree's indentation
		// below, written in one pass without inserting indentation tokens into the tree (that was
		// a tenth of a run's allocations).
		writePlain(bw, e, 1)
		return bw.WriteByte('\n')
	}
	doc := etree.NewDocument()
	doc.SetRoot(e)
	doc.IndentWithSettings(indentSettings)
	e.WriteTo(bw, &writeSettings)
	return bw.WriteByte('\n')
}

// plainTree says whether writePlain writes e as etree would: only elements and plain text, and no
// element with both text and element children (etree's indentation of mixed content, comments or
// CDATA is left to etree).
func plainTree(e *etree.Element) bool {
	text, elems := false, false
	for _, c := range e.Child {
		switch c := c.(type) {
		case *etree.Element:
			if !plainTree(c) {
				return false
			}
			elems = true
		case *etree.CharData:
			if c.IsCData() || c.IsWhitespace() {
				return false
			}
			text = true
		default:
			return false
		}
	}
	return !(text && elems)
}

// writePlain writes a plainTree element at depth (1 for the element written) the way
// etree.Document.IndentWithSettings(indentSettings) then WriteTo(writeSettings) does: element
// children each on a line indented by one space per level, text inline, canonical escaping.
func writePlain(bw *bufio.Writer, e *etree.Element, depth int) {
	bw.WriteByte('<')
	writeName(bw, e.Space, e.Tag)
	for _, a := range e.Attr {
		bw.WriteByte(' ')
		writeName(bw, a.Space, a.Key)
		bw.WriteString(`="`)
		escapeXML(bw, a.Value, true)
		bw.WriteByte('"')
	}
	if len(e.Child) == 0 {
		bw.WriteString("/>")
		return
	}
	bw.WriteByte('>')
	elems := false
	for _, c := range e.Child {
		switch c := c.(type) {
		case *etree.Element:
			elems = true
			writeIndent(bw, depth)
			writePlain(bw, c, depth+1)
		case *etree.CharData:
			escapeXML(bw, c.Data, false)
		}
	}
	if elems {
		writeIndent(bw, depth-1)
	}
	bw.WriteString("</")
	writeName(bw, e.Space, e.Tag)
	bw.WriteByte('>')
}

func writeName(bw *bufio.Writer, space, name string) {
	if space != "" {
		bw.WriteString(space)
		bw.WriteByte(':')
	}
	bw.WriteString(name)
}

func writeIndent(bw *bufio.Writer, n int) {
	bw.WriteByte('\n')
	for range n {
		bw.WriteByte(' ')
	}
}

// escapeXML escapes text (attr false) or a double-quoted attribute value (attr true) as etree's
// canonical write settings do: characters XML cannot hold become U+FFFD.
func escapeXML(bw *bufio.Writer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			if attr {
				continue
			}
			esc = "&gt;"
		case '"':
			if !attr {
				continue
			}
			esc = "&quot;"
		case '\t':
			if !attr {
				continue
			}
			esc = "&#x9;"
		case '\n':
			if !attr {
				continue
			}
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if xmlChar(r) && !(r == utf8.RuneError && width == 1) {
				continue
			}
			esc = "\uFFFD"
		}
		bw.WriteString(s[last : i-width])
		bw.WriteString(esc)
		last = i
	}
	bw.WriteString(s[last:])
}
