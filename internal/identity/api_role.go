package identity

// roleRoutes is not written yet: its paths answer 404 until it is.
var roleRoutes = []route{}
