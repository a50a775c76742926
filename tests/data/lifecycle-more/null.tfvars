content = null
