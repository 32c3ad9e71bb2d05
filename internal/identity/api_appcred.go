package identity

// appCredRoutes is not written yet: its paths answer 404 until it is.
var appCredRoutes = []route{}
