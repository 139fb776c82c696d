package server

// APIRoutes are the API's operations as the server registers them ("GET /api/v1/…"), for the
// test that compares them with the OpenAPI document.
func APIRoutes() []string {
	var out []string
	for _, rt := range apiRoutes {
		out = append(out, rt.Method+" "+rt.Path)
	}
	return out
}
