package identity

// policyRoutes is not written yet: its paths answer 404 until it is.
var policyRoutes = []route{}
