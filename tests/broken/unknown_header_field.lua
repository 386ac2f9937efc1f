-- Broken on purpose: a misspelt field in the header ("durration"). Unknown
-- fields are named, with the list of known ones; exit 3.
scenario{ name = "unknown_header_field", description = "a typo in the header", durration = "5s" }
print("never printed")
