package textsafe

import (
	"encoding/csv"
	"io"
)

// SpreadsheetCSV starts CSV as French spreadsheets open it as it is: a byte-order mark (without
// it Excel reads UTF-8 as Windows-1252), ';' between cells (',' is the decimal separator), CRLF
// line ends. Cells a person typed still go through CSVCell.
func SpreadsheetCSV(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	c := csv.NewWriter(w)
	c.Comma, c.UseCRLF = ';', true
	return c, nil
}
