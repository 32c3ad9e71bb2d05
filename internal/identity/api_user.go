package identity

// userRoutes is not written yet: its paths answer 404 until it is.
var userRoutes = []route{}
