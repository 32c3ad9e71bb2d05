package identity

// assignmentRoutes is not written yet: its paths answer 404 until it is.
var assignmentRoutes = []route{}
