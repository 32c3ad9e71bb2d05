package identity

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkValidateHandler measures GET /v3/auth/tokens through the whole
// handler stack (wrap, dispatch, policy, cache), without the network.
func BenchmarkValidateHandler(b *testing.B) {
	tc := newTestCloud(b)
	subject, _ := tc.passwordToken("admin", testAdminPassword, projectScope(tc.adminProj))
	h := tc.svc.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "/v3/auth/tokens", nil)
			r.Header.Set("X-Auth-Token", tc.adminToken)
			r.Header.Set("X-Subject-Token", subject)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
