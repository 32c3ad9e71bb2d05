package identity

// revokeRoutes is not written yet: its paths answer 404 until it is.
var revokeRoutes = []route{}
