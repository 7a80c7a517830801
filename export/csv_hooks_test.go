package export

// CSVRow is appendCSVRow for tests: the CSV row of an event's JSON.
func CSVRow(dst, data []byte) ([]byte, error) {
	row, _, err := appendCSVRow(dst, nil, data)
	return row, err
}
