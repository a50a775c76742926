a   =   1
bb = "x"
