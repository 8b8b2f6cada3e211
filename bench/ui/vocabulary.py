"""Words, themes and fonts for the generated desktops (bench/generate_ui.py, bench/ui/): what they show."""

from __future__ import annotations

from dataclasses import dataclass

# --- vocabulary ------------------------------------------------------------------------------------

FIELDS = [
    ("First name:", "Maria"),
    ("Last name:", "Okafor"),
    ("Email address:", "maria.okafor@example.com"),
    ("Phone:", "+44 20 7946 0958"),
    ("Company:", "Northwind Traders"),
    ("Street:", "221B Baker Street"),
    ("City:", "Zürich"),
    ("ZIP code:", "8004"),
    ("Country:", "Switzerland"),
    ("Username:", "mokafor"),
    ("Job title:", "Procurement Lead"),
    ("Website:", "https://northwind.example"),
    ("Department:", "Finance"),
    ("Invoice number:", "INV-2024-0173"),
    ("Amount:", "1,284.50"),
    ("Due date:", "2024-09-30"),
    ("Reference:", "PO 88127"),
    ("Display name:", "Café Müller"),
    ("Project:", "São Paulo rollout"),
]
CHECKS = [
    "Remember me",
    "Subscribe to newsletter",
    "I accept the terms",
    "Send me a copy",
    "Enable notifications",
    "Start at login",
    "Show hidden files",
    "Use dark mode",
    "Auto-save every 5 minutes",
    "Check spelling as you type",
    "Allow remote access",
    "Show line numbers",
    "Word wrap",
    "Sync over metered connections",
]
RADIOS = [("Monthly", "Yearly"), ("Personal", "Business"), ("Light", "Dark", "System"), ("Low", "Medium", "High")]
BUTTONS = [
    ("Submit", "Cancel"),
    ("Save", "Discard"),
    ("OK", "Cancel", "Apply"),
    ("Sign in", "Create account"),
    ("Next >", "< Back", "Finish"),
    ("Send", "Save draft"),
    ("Continue", "Go back"),
    ("Confirm", "Edit details"),
]
TITLES = {
    "form": ["New Customer", "Account Details", "Create Invoice", "Sign Up", "Shipping Address", "Edit Contact"],
    "table": ["Invoices — Acme CRM", "Orders", "Employees", "Inventory", "Transactions", "Support Tickets"],
    "editor": ["main.py — Code Editor", "report.md — Notes", "config.yaml — Editor", "notes.txt — Text Editor"],
    "dialog": ["Unsaved Changes", "Delete Files?", "Update Available", "Connection Lost", "Confirm Payment"],
    "settings": ["Settings", "Preferences", "System Settings", "Options"],
    "browser": ["Web Browser", "Docs — Browser", "Dashboard — Browser"],
}
MENUS = ["File", "Edit", "View", "Insert", "Format", "Tools", "Window", "Help", "Go", "Run", "Selection"]
MENU_ITEMS = [
    ("New Window", "Ctrl+Shift+N"),
    ("Open File…", "Ctrl+O"),
    ("Open Recent", ""),
    ("Save All", "Ctrl+Alt+S"),
    ("Save As…", "Ctrl+Shift+S"),
    ("Close Editor", "Ctrl+W"),
    ("Print…", "Ctrl+P"),
    ("Preferences", "Ctrl+,"),
    ("Undo", "Ctrl+Z"),
    ("Redo", "Ctrl+Y"),
    ("Cut", "Ctrl+X"),
    ("Copy", "Ctrl+C"),
    ("Paste", "Ctrl+V"),
    ("Find", "Ctrl+F"),
    ("Replace", "Ctrl+H"),
    ("Select All", "Ctrl+A"),
    ("Zoom In", "Ctrl+="),
    ("Zoom Out", "Ctrl+-"),
    ("Toggle Full Screen", "F11"),
    ("Word Count", ""),
    ("Export as PDF", ""),
    ("Exit", "Ctrl+Q"),
]
TOOLBAR = ["New", "Import", "Export CSV", "Filter", "Refresh", "Share", "Archive", "Print", "Duplicate", "Assign"]
NAMES = [
    "Alice Johnson",
    "Bob Smith",
    "Chen Wei",
    "Dana Müller",
    "Emeka Obi",
    "Fatima Zahra",
    "Gustavo Lima",
    "Hana Sato",
    "Ivan Petrov",
    "Jonas Berg",
    "Kofi Mensah",
    "Lucía Gómez",
    "Mei Lin",
    "Noah Williams",
    "Olga Ivanova",
    "Priya Nair",
    "Quentin Roux",
    "Rosa Martins",
    "Sven Larsen",
    "Tariq Aziz",
    "Ursula Klein",
]
CITIES = ["Berlin", "Lagos", "Osaka", "Lyon", "Toronto", "Zürich", "Kraków", "Porto", "Seoul", "Austin", "Nairobi"]
STATUSES = ["Active", "Pending", "Suspended", "Closed", "Overdue", "Paid", "Draft", "Shipped", "On hold"]
FILES = ["main.py", "utils.py", "README.md", "config.yaml", "test_api.py", "Dockerfile", "setup.cfg", "models.py"]
CODE = [
    "def load_config(path):",
    "    with open(path) as handle:",
    "        return yaml.safe_load(handle)",
    "class InvoiceService:",
    "    def total(self, items):",
    "        return sum(i.price for i in items)",
    'if __name__ == "__main__":',
    "    main(sys.argv[1:])",
    "import logging",
    "from pathlib import Path",
]
SETTINGS_TABS = ["General", "Appearance", "Privacy", "Advanced", "Accounts", "Shortcuts"]
LINKS = ["Read the documentation", "Pricing", "Contact sales", "Release notes", "Privacy policy", "Status page"]
BOOKMARKS = ["Inbox", "Calendar", "Wiki", "Jira", "Grafana", "Pull requests"]
MESSAGES = {
    "Unsaved Changes": "Do you want to save the changes you made to report.md?",
    "Delete Files?": "3 files will be moved to the trash.",
    "Update Available": "Version 4.2.1 is ready to install.",
    "Connection Lost": "The server stopped responding. Retry in 30 seconds?",
    "Confirm Payment": "Pay 249.00 EUR to Northwind Traders?",
}
ICONS = {
    "search": "search icon",
    "refresh": "refresh icon",
    "back": "go back (left arrow)",
    "forward": "go forward",
    "plus": "add new item (plus icon)",
    "trash": "delete (trash can icon)",
    "gear": "settings (gear icon)",
    "menu": "main menu (hamburger icon)",
    "star": "bookmark this page (star icon)",
    "home": "home icon",
    "close": "close window",
    "maximize": "maximize window",
    "minimize": "minimize window",
    "warning": "warning icon",
}
TEMPLATES = ["{t}", "{t}", "{t}", "{t}", "click {t}", "click on {t}", 'select "{t}"', "open {t}", "press {t}"]


@dataclass(frozen=True)
class Theme:
    """Colours for one screen."""

    name: str
    desktop: str
    panel: str
    window: str
    title: str
    fg: str
    field: str
    accent: str
    accent_fg: str
    muted: str
    stripe: str
    link: str
    title_fg: str


THEMES = [
    Theme(
        "light",
        "#3a6ea5",
        "#e8e8e8",
        "#f6f6f6",
        "#dcdcdc",
        "#1d1d1d",
        "#ffffff",
        "#2f6fde",
        "#ffffff",
        "#5f5f5f",
        "#eef2f8",
        "#1a55c4",
        "#1d1d1d",
    ),
    Theme(
        "dark",
        "#101418",
        "#202124",
        "#252526",
        "#333333",
        "#d8d8d8",
        "#3c3c3c",
        "#0e639c",
        "#ffffff",
        "#a0a0a0",
        "#2d2d30",
        "#6fb3ff",
        "#e8e8e8",
    ),
    Theme(
        "grey",
        "#008080",
        "#c0c0c0",
        "#d4d0c8",
        "#a0a0a0",
        "#000000",
        "#ffffff",
        "#000080",
        "#ffffff",
        "#404040",
        "#e4e0d8",
        "#0000cc",
        "#ffffff",
    ),
    Theme(
        "solarized",
        "#073642",
        "#eee8d5",
        "#fdf6e3",
        "#eee8d5",
        "#586e75",
        "#ffffff",
        "#268bd2",
        "#ffffff",
        "#839496",
        "#f5efdc",
        "#2aa198",
        "#586e75",
    ),
    Theme(
        "blue",
        "#dfe7f2",
        "#1f3b63",
        "#ffffff",
        "#2c5282",
        "#1a202c",
        "#f7fafc",
        "#3182ce",
        "#ffffff",
        "#718096",
        "#ebf4ff",
        "#2b6cb0",
        "#ffffff",
    ),
]
PREFERRED_FONTS = [
    "DejaVu Sans",
    "DejaVu Sans",
    "Liberation Sans",
    "Liberation Sans",
    "DejaVu Serif",
    "Liberation Serif",
    "DejaVu Sans Mono",
    "Liberation Mono",
    "Noto Sans CJK SC",
]
FONT_PX = {1280: (11, 15), 1366: (11, 15), 1920: (12, 17), 2560: (15, 22)}

# --- windows that show a target more than once (--context) ----------------------------------------
# Their instructions name the context a person would use: the row's name, the sidebar, the bottom.
# A row's action is never also one of its cells' values (a role "编辑" beside an "编辑" button would
# make "编辑 for 李娜" ambiguous for a person too).

DEVICES = [
    "LivingRoom-TV",
    "Kitchen-Speaker",
    "Office-Printer",
    "Garage-Camera",
    "Kids-Tablet",
    "Bedroom-Lamp",
    "Hall-Thermostat",
    "Study-Laptop",
    "Porch-Doorbell",
    "Guest-Phone",
]
ZH_NAMES = ["李娜", "王伟", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴芳"]
ROW_TABLES = {
    # title: (noun, column headers, row actions)
    "Connected Devices": ("device", ["Device", "IP address", "Status"], ["Block", "Disconnect", "Rename"]),
    "Devices — Home Network": ("device", ["Device", "IP address", "Status"], ["Block", "Disconnect", "Rename"]),
    "Team Members": ("user", ["Name", "Role", "Last seen"], ["Remove", "Reset password", "Suspend"]),
    "User Accounts": ("user", ["Name", "Role", "Last seen"], ["Delete", "Reset password", "Suspend"]),
    "用户管理": ("user", ["用户名", "角色", "状态"], ["重置密码", "禁用", "删除"]),
    "成员列表": ("user", ["用户名", "角色", "状态"], ["重置密码", "移除", "修改"]),
}
ROW_CELLS = {
    "IP address": [f"192.168.1.{n}" for n in range(10, 60, 3)],
    "Status": ["Online", "Offline", "Idle"],
    "Role": ["Admin", "Editor", "Viewer", "Owner"],
    "Last seen": ["just now", "5 min ago", "2 h ago", "yesterday", "3 days ago"],
    "角色": ["管理员", "编辑", "访客"],
    "状态": ["正常", "已禁用", "待激活"],
}
ROW_TEMPLATES = [
    "{t} for the {noun} {n}",
    "click {t} for {n}",
    "{t} in the row of {n}",
    "press the {t} button next to {n}",
    "{t} for {noun} {n}",
]
SIDEBAR_ITEMS = [
    "Dashboard",
    "Orders",
    "Customers",
    "Product management",
    "Inventory",
    "Marketing campaigns",
    "Reports",
    "Shipping settings",
    "Discount codes",
]
ZH_SIDEBAR_ITEMS = ["仪表盘", "订单", "客户", "商品管理", "库存", "营销活动", "报表", "系统设置"]
ADMIN_ACTIONS = ["Add new", "Export report", "Filters"]
ZH_ADMIN_ACTIONS = ["新建", "导出", "筛选"]
SIDEBAR_TEMPLATES = [
    "{t} in the left sidebar",
    "{t} in the sidebar",
    "the {t} link in the left sidebar",
    "click {t} in the navigation",
]
HEADING_TEMPLATES = ["the {t} heading on the right", "{t} title on the right"]
IDE_FILES = ["api.ts", "index.ts", "App.tsx", "routes.ts", "store.ts", "styles.css", "package.json", "tsconfig.json"]
IDE_CODE = [
    "export async function fetchOrders(page: number) {",
    "  const response = await api.get(`/orders?page=${page}`);",
    "  return response.data as Order[];",
    "}",
    "import { createStore } from './store';",
    "const routes = [{ path: '/', component: Home }];",
]
TAB_TEMPLATES = ["the {t} editor tab", "{t} tab", "the {t} tab at the top"]
TREE_TEMPLATES = ["{t} in the file explorer", "{t} in the left sidebar"]
HELP_BOTTOM_TEMPLATES = ["{t} at the bottom of the form", "the {t} button at the bottom", "the {t} button next to {n}"]
HELP_TOP_TEMPLATES = ["{t} in the menu bar", "the {t} menu at the top"]
CONTEXT_TITLES = {
    "rows": list(ROW_TABLES)[:4],
    "rows_zh": list(ROW_TABLES)[4:],
    "admin": ["Store Admin", "Back Office", "后台管理"],
    "ide": ["web-app — Code", "Project — IDE", "frontend — Editor"],
    "help_form": ["Support Request", "New Ticket", "Send Feedback"],
}
