// Package proxy is kumo's Swift proxy server: the object store's public API
// (/v1/AUTH_<project>/<container>/<object> on port 8080). As Swift's
// proxy-server it keeps no data itself: it authorizes the request (Keystone
// tokens, container ACLs, account ACLs, temp URLs), finds the replicas
// through the account, container and object rings, and talks Swift's
// backend API to the storage nodes (see package node). Writes go to every
// primary, with handoffs standing in for failed or full ones, and succeed
// on a quorum; reads take the first good replica, and an object body whose
// node fails part way continues from another replica holding the same
// version (resume.go), as Swift's GETorHEADHandler does.
//
// Besides the core API it does what these Swift middlewares do, and /info
// lists exactly them: crossdomain, dlo, slo, tempurl, bulk_delete,
// bulk_upload, account_quotas, container_quotas, versioned_writes (stack
// and history modes), formpost, staticweb (healthcheck too, which Swift
// does not list). Middleware work that needs the proxy itself (archiving a
// version, a form's upload, an index page) goes through subrequests
// (subrequest.go) that carry the caller's identity. Not built yet:
// container sync, CORS, X-Newest, ranges over large objects.
package proxy
