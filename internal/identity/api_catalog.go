package identity

// catalogRoutes is not written yet: its paths answer 404 until it is.
var catalogRoutes = []route{}
