package identity

// groupRoutes is not written yet: its paths answer 404 until it is.
var groupRoutes = []route{}
