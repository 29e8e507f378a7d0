import sys

from yinling.cli import main

sys.exit(main())
