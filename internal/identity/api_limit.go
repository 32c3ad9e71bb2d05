package identity

// limitRoutes is not written yet: its paths answer 404 until it is.
var limitRoutes = []route{}
