package identity

// trustRoutes is not written yet: its paths answer 404 until it is.
var trustRoutes = []route{}
