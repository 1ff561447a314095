"""The two languages the users read: 中文 (default) and English, switched by `?lang=`."""

from collections.abc import Callable
from enum import StrEnum
from types import MappingProxyType
from typing import Final

LANG_COOKIE = "bk_lang"


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


MESSAGES: Final = MappingProxyType(
    {
        "app": ("明厨亮灶", "BrightKitchen"),
        "login": ("登录", "Log in"),
        "logout": ("退出", "Log out"),
        "username": ("用户名", "Username"),
        "password": ("密码", "Password"),
        "operator_token": ("运维令牌", "Operator token"),
        "violations": ("违规告警", "Violations"),
        "queue": ("审核队列", "Review queue"),
        "time": ("时间", "Time"),
        "site": ("场所", "Site"),
        "camera": ("摄像头", "Camera"),
        "kind": ("类型", "Kind"),
        "severity": ("等级", "Severity"),
        "confidence": ("置信度", "Confidence"),
        "state": ("状态", "State"),
        "deadline": ("整改期限", "Deadline"),
        "escalation": ("督办", "Escalation"),
        "no_violations": ("暂无告警", "No violations yet"),
        "live": ("实时", "Live"),
        "connecting": ("连接中", "Connecting"),
        "reconnecting": ("已断开，重连中", "Reconnecting"),
        "acknowledge": ("确认收到", "Acknowledge"),
        "rectify": ("提交整改", "Rectify"),
        "note": ("说明", "Note"),
        "photo": ("整改照片", "Photo"),
        "verify": ("验收通过", "Verify"),
        "send_back": ("退回", "Send back"),
        "dismiss": ("误报", "Dismiss"),
        "confirm": ("确认违规", "Confirm"),
        "set_deadline": ("设定期限", "Set deadline"),
        "filters": ("筛选", "Filters"),
        "all": ("全部", "All"),
        "apply": ("应用", "Apply"),
        "history": ("处理记录", "History"),
        "snapshot": ("抓拍", "Snapshot"),
        "clip": ("视频", "Clip"),
        "charts": ("统计", "Statistics"),
        "per_day": ("每日告警", "Violations per day"),
        "per_kind": ("按类型", "By kind"),
        "per_site": ("按场所", "By site"),
        "score": ("评分", "Score"),
        "today": ("今日", "Today"),
        "compliance": ("今日合规情况", "Today's compliance"),
        "violations_today": ("今日告警", "Alerts today"),
        "rectified_today": ("已整改", "Rectified"),
        "live_view": ("后厨直播", "Kitchen live view"),
        "no_cameras": ("暂无公开画面", "No public cameras"),
        "share_expired": ("链接无效或已过期", "This link is invalid or has expired"),
        "admin": ("系统管理", "Administration"),
        "sites": ("场所", "Sites"),
        "regions": ("区域", "Regions"),
        "cameras": ("摄像头", "Cameras"),
        "zones": ("区域划定", "Zones"),
        "users": ("用户", "Users"),
        "devices": ("边缘设备", "Edge devices"),
        "share_links": ("家长链接", "Parent links"),
        "create": ("新建", "Create"),
        "save": ("保存", "Save"),
        "clear": ("清除", "Clear"),
        "name": ("名称", "Name"),
        "code": ("编号", "Code"),
        "role": ("角色", "Role"),
        "region": ("区域", "Region"),
        "area_type": ("功能区", "Area"),
        "public": ("公开", "Public"),
        "staff_console": ("食安员工作台", "Staff console"),
        "supervisor_console": ("监管工作台", "Supervisor console"),
        "sound_on": ("开启提示音", "Enable sound"),
        "new": ("待处理", "New"),
        "acknowledged": ("处理中", "Acknowledged"),
        "rectified": ("已整改", "Rectified"),
        "verified": ("已验收", "Verified"),
        "dismissed": ("误报", "Dismissed"),
        "overdue": ("已超期", "Overdue"),
        "yellow": ("黄牌", "Yellow card"),
        "red": ("红牌", "Red card"),
        "none": ("", ""),
        # incidents: how long the condition lasted, how many targets (rodents)
        "duration": ("持续时间", "Duration"),
        "ongoing": ("持续中", "ongoing"),
        "lasted": ("持续", "lasted"),
        "count": ("数量", "Count"),
        # camera health as the edges report it (CameraState), and an edge gone offline
        "camera_health": ("设备状态", "Camera health"),
        "no_edges": ("暂无设备上报", "No edge has reported yet"),
        "edge": ("边缘设备", "Edge"),
        "since": ("起始时间", "Since"),
        "camera_state_starting": ("启动中", "Starting"),
        "camera_state_online": ("在线", "Online"),
        "camera_state_offline": ("离线", "Offline"),
        "camera_state_frozen": ("画面冻结", "Frozen"),
        "camera_state_blurred_or_covered": ("画面模糊/遮挡", "Blurred or covered"),
    }
)


def translator(lang: Lang) -> Callable[[str], str]:
    index = 0 if lang is Lang.ZH else 1

    def t(key: str) -> str:
        pair = MESSAGES.get(key)
        return key if pair is None else pair[index]

    return t
