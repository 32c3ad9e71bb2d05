# jsonflat.awk: prints every scalar of one JSON document as "path<TAB>value",
# paths like .uuid, .public_keys.mykey, .links[0].ethernet_mac_address.
# Busybox has no JSON tool; config-drive files are small, so a recursive
# character scanner is fast enough. Newlines inside strings become spaces
# (SSH keys and names are single-line values).
{ s = s $0 "\n" }
END {
	n = length(s); pos = 1
	value("")
}
function ws() {
	while (pos <= n && index(" \t\r\n", substr(s, pos, 1))) pos++
}
function hexval(h,   i, v) {
	v = 0
	for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
	return v
}
function str(   out, c, v) {
	out = ""
	pos++ # the opening quote
	while (pos <= n) {
		c = substr(s, pos, 1)
		if (c == "\"") { pos++; return out }
		if (c == "\\") {
			pos++; c = substr(s, pos, 1)
			if (c == "n" || c == "r" || c == "t") out = out " "
			else if (c == "b" || c == "f") out = out
			else if (c == "u") {
				v = hexval(substr(s, pos + 1, 4)); pos += 4
				out = out ((v >= 32 && v < 127) ? sprintf("%c", v) : "?")
			} else out = out c
			pos++
			continue
		}
		out = out c
		pos++
	}
	return out
}
function emit(path, v) {
	sub(/[ \t]+$/, "", v)
	printf "%s\t%s\n", path, v
}
function value(path,   c, i, k, start) {
	ws(); c = substr(s, pos, 1)
	if (c == "{") {
		pos++; ws()
		if (substr(s, pos, 1) == "}") { pos++; return }
		while (pos <= n) {
			ws(); k = str(); ws(); pos++ # the colon
			value(path "." k)
			ws(); c = substr(s, pos, 1); pos++
			if (c != ",") return
		}
	} else if (c == "[") {
		pos++; ws()
		if (substr(s, pos, 1) == "]") { pos++; return }
		i = 0
		while (pos <= n) {
			value(path "[" i "]"); i++
			ws(); c = substr(s, pos, 1); pos++
			if (c != ",") return
		}
	} else if (c == "\"") {
		emit(path, str())
	} else {
		start = pos
		while (pos <= n && !index(",}] \t\r\n", substr(s, pos, 1))) pos++
		emit(path, substr(s, start, pos - start))
	}
}
